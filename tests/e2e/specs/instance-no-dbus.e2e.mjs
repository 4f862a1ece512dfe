// A second launch hands off to the running app with no D-Bus session at all (the harness starts
// this spec's app without DBUS_SESSION_BUS_ADDRESS): a bare X session, a headless login.
import { describeSecondLaunch } from '../instance.mjs';

describeSecondLaunch('A second launch of Kura (no D-Bus session)');
