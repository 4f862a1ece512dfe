// A second launch hands off to the running app, in a session with D-Bus (the harness's).
import { describeSecondLaunch } from '../instance.mjs';

describeSecondLaunch('A second launch of Kura (D-Bus session)');
