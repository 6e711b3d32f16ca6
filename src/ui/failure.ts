/**
 * A dashboard action that could not be done, said in words in the page, never as raw JSON: a
 * form sent without JavaScript gets an HTML page with the message and a way back; an htmx
 * request gets a fragment (assets/live.js shows it in the page's banner).
 */
import { html, layout, PAGES, type PageId } from "./html.ts";

const HTML_HEADERS = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" };

/** Where a form may send the person back to: a dashboard page, never another site. */
export function safeBack(back: string | undefined, fallback: string): string {
  return back && /^\/ui(\/[\w\-./]*)?(\?[\w\-=&%.]*)?$/.test(back) ? back : fallback;
}

const pageOf = (path: string): PageId =>
  [...PAGES]
    .reverse()
    .find(([, href]) => path === href || path.startsWith(`${href}/`) || path.startsWith(`${href}?`))?.[0] ?? "overview";

export function actionFailed(
  request: Request,
  status: number,
  message: string,
  back: string,
  signedIn: boolean,
): Response {
  const signedOut = status === 401;
  const text = signedOut
    ? "You are signed out (your session has ended), so this was not done."
    : `This was not done: ${message}.`.replace(/\.\.$/, ".");
  if (request.headers.get("hx-request") === "true") {
    return new Response(html`<p class="notice error" role="alert">${text}</p>`.__html, {
      status,
      headers: HTML_HEADERS,
    });
  }
  const body = html`<p class="notice error" role="alert">${text}</p>
  <p>${signedOut ? html`<a href="/ui/sign-in">Sign in again</a>, then repeat it from <a href="${back}">the page you were on</a>.` : html`<a href="${back}">Back to the page</a>`}</p>`;
  return new Response(layout("That did not work", signedOut ? "sign-in" : pageOf(back), body, { signedIn }), {
    status,
    headers: HTML_HEADERS,
  });
}
