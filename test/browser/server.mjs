// globalSetup of the browser tests: bundle the pages, then one `wrangler dev` on loopback for every
// test file (its URL given to them as `inject("serverUrl")`), stopped when the run ends.
import { freePort, removeDir, tempDir, WranglerDev } from "../node/wrangler-dev.mjs";
import buildPages from "./build-pages.mjs";

export default async function setup({ provide }) {
  buildPages();
  const state = tempDir();
  const port = await freePort(process.env.DOSQL_BROWSER_TEST_PORT);
  const inspector = await freePort(process.env.DOSQL_BROWSER_TEST_INSPECTOR_PORT);
  const server = new WranglerDev(port, inspector, state);
  await server.start();
  provide("serverUrl", server.url);
  return async () => {
    await server.stop();
    removeDir(state);
  };
}
