import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { connect } from "./lib/api/connect";
import { AppState } from "./lib/state/app.svelte";
import { applyTheme, savedTheme } from "./lib/theme";

applyTheme(savedTheme());

const target = document.getElementById("app")!;
const app = new AppState(await connect());
mount(App, { target, props: { app } });
void app.start();
