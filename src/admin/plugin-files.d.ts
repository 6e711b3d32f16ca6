// The Stash plugin's files, imported as text (`with { type: "text" }`): embedded in the single executable.
declare module "*.py" {
  const text: string;
  export default text;
}
declare module "*.yml" {
  const text: string;
  export default text;
}
declare module "*/stash2plex.js" {
  const text: string;
  export default text;
}
