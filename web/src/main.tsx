// The web page of `prompts serve`: one route per page, each page in pages/, every URL a real
// one (a prompt or a diff can be pasted into a chat).
import { render } from "preact";
import { LocationProvider, Route, Router } from "preact-iso";
import { Layout } from "./layout.js";
import { startLive } from "./live.js";
import { DiffPage } from "./pages/diff.js";
import { EnvironmentsPage } from "./pages/environments.js";
import { ExperimentsPage } from "./pages/experiments.js";
import { HistoryPage } from "./pages/history.js";
import { NotFoundPage } from "./pages/not-found.js";
import { PlaygroundPage } from "./pages/playground.js";
import { PromptPage } from "./pages/prompt.js";
import { PromptsPage } from "./pages/prompts.js";
import "./style.css";

function App() {
  return (
    <LocationProvider>
      <Layout>
        <Router>
          <Route path="/" component={PromptsPage} />
          <Route path="/prompts" component={PromptsPage} />
          <Route path="/prompts/:name+" component={PromptPage} />
          <Route path="/history/:name+" component={HistoryPage} />
          <Route path="/diff" component={DiffPage} />
          <Route path="/environments" component={EnvironmentsPage} />
          <Route path="/playground/:name+" component={PlaygroundPage} />
          <Route path="/experiments" component={ExperimentsPage} />
          <Route path="/experiments/:name+" component={ExperimentsPage} />
          <Route default component={NotFoundPage} />
        </Router>
      </Layout>
    </LocationProvider>
  );
}

startLive();
render(<App />, document.getElementById("app") as HTMLElement);
