// Stylesheets imported by a page's script: esbuild writes them next to it (web/js/<page>.css).
declare module "*.css";
