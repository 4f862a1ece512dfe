import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { connect } from "./lib/api/connect";
import { AppState } from "./lib/state/app.svelte";

const target = document.getElementById("app")!;
const app = new AppState(await connect());
mount(App, { target, props: { app } });
void app.start();
