// Files Bun imports as text (`with { type: "text" }`): embedded in the single executable.
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "htmx.org/dist/htmx.min.js" {
  const text: string;
  export default text;
}
declare module "*.svg" {
  const text: string;
  export default text;
}
declare module "*/live.js" {
  const text: string;
  export default text;
}
