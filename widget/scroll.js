/**
 * Where the transcript stays when it changes. A user at the end follows the conversation, but a
 * long answer shows from its first line, not its last; a user who scrolled up to read stays where
 * they are and gets a "新消息 ↓" pill instead. Every change goes through revealUpdate(), which
 * settles once per update (a turn's bubbles, quick replies and typing dots come together).
 */
import { ui } from './state.js';

const NEAR_END_PX = 80; // this close to the end counts as reading the end
const ANCHOR_GAP_PX = 8; // room above the first new bubble, so its sender line shows too

let followingEnd = true; // the user was near the end when last looked at, before the update
// The first bubble since the user last sent or scrolled: a turn's replies come one frame at a time,
// and following the end bubble by bubble would scroll the first ones away before they were read.
let turnStart = null;
let arrivedSinceSettle = false;
let pillTarget = null; // the first bubble that came below the view of a reader scrolled up
let settleQueued = false;
let settledTop = -1; // where settle() left the scroller, to tell its scroll events from the user's

export const distanceFromEnd = () => ui.scroller.scrollHeight - ui.scroller.scrollTop - ui.scroller.clientHeight;

const panelShown = () => Boolean(ui.panel && !ui.panel.hidden);

/** Call after anything was added to the transcript; newBubble is a bubble row, if one came. */
export function revealUpdate(newBubble, { own = false } = {}) {
  if (own) {
    // Sending is a request to see the conversation's end, whatever was being read.
    followingEnd = true;
    turnStart = null;
    pillTarget = null;
  } else if (newBubble) {
    if (!turnStart) turnStart = newBubble;
    if (!followingEnd && !pillTarget) pillTarget = newBubble;
    arrivedSinceSettle = true;
  }
  if (settleQueued) return;
  settleQueued = true;
  queueMicrotask(settle);
}

/** History was replaced (reload, new conversation): show its end, as a messenger does. */
export function showLatest() {
  followingEnd = true;
  turnStart = null;
  pillTarget = null;
  revealUpdate();
}

function settle() {
  settleQueued = false;
  if (!ui.scroller || !panelShown()) return; // closed: settled when it opens (see onPanelOpened)
  const arrived = arrivedSinceSettle;
  arrivedSinceSettle = false;
  if (followingEnd) {
    const end = ui.scroller.scrollHeight - ui.scroller.clientHeight;
    const start = turnStart && turnStart.isConnected ? topInScroller(turnStart) - ANCHOR_GAP_PX : end;
    ui.scroller.scrollTop = Math.max(ui.scroller.scrollTop, Math.min(end, start));
    settledTop = ui.scroller.scrollTop;
    // Stopped at the turn's first bubble: the rest is below, and later bubbles must not move it.
    followingEnd = distanceFromEnd() <= NEAR_END_PX;
  }
  if (distanceFromEnd() <= NEAR_END_PX) ui.newMessages.hidden = true;
  else if (arrived) ui.newMessages.hidden = false;
}

const topInScroller = (node) =>
  node.getBoundingClientRect().top - ui.scroller.getBoundingClientRect().top + ui.scroller.scrollTop;

/** The pill: to the top of the first unseen bubble if it is taller than the view, else to the end. */
export function scrollToNewMessages() {
  const end = ui.scroller.scrollHeight - ui.scroller.clientHeight;
  const target = pillTarget && pillTarget.isConnected ? Math.min(end, topInScroller(pillTarget) - ANCHOR_GAP_PX) : end;
  pillTarget = null;
  const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  ui.scroller.scrollTo({ top: Math.max(target, ui.scroller.scrollTop), behavior: smooth ? 'smooth' : 'auto' });
}

export function watchScrolling() {
  ui.scroller.addEventListener(
    'scroll',
    () => {
      if (settleQueued) return; // the update's own layout, not the user
      const byUser = Math.abs(ui.scroller.scrollTop - settledTop) > 1;
      if (byUser) turnStart = null; // the reader took over: the next bubble starts what is new
      followingEnd = distanceFromEnd() <= NEAR_END_PX;
      if (followingEnd) {
        pillTarget = null;
        ui.newMessages.hidden = true;
      }
    },
    { passive: true },
  );
}

/**
 * The viewport changed height (the phone keyboard opened or closed): a user at the end stays at
 * the end; one reading history keeps their place.
 */
export function keepPlaceOnResize(wasFollowingEnd) {
  if (wasFollowingEnd) ui.scroller.scrollTop = ui.scroller.scrollHeight;
  followingEnd = distanceFromEnd() <= NEAR_END_PX;
}

export const isFollowingEnd = () => followingEnd;

/** A panel opened on bubbles that came while it was closed shows them from the first. */
export function onPanelOpened() {
  revealUpdate();
}
