/**
 * The second step of a bulk action that cannot be undone ("Discard all"): one click on a crowded
 * page must not throw away thousands of entries. Without JavaScript, so a page of its own: the
 * question, what follows, the button that does it and the way back.
 */
import { html, type Html } from "../html.ts";

export interface ConfirmAll {
  /** What follows, in words (the page's title asks the question). */
  consequence: string;
  /** The form's action; it is posted with which=all and confirmed=yes. */
  action: string;
  button: string;
  back: string;
}

export function confirmAll(c: ConfirmAll): Html {
  return html`<p id="confirm-consequence">${c.consequence}</p>
  <form method="post" action="${c.action}" id="confirm-form">
    <input type="hidden" name="which" value="all"><input type="hidden" name="confirmed" value="yes">
    <input type="hidden" name="back" value="${c.back}">
    <div class="actions"><button class="danger">${c.button}</button> <a href="${c.back}">No, keep them</a></div>
  </form>`;
}
