// Follows the registry's event feed (GET /api/v1/events, long polls; see
// docs/events.md) while a token is signed in, and hands each batch of new
// events to `onEvents`. Starts from the newest event (after=now): only
// changes made after the page was opened are reported. A failed poll (a
// restart, a network blip) is tried again after a pause; stop() ends it.
import { api } from './api.js';

const kWaitS = 25;
const kRetryMs = 5000;

export function follow(onEvents) {
  let stopped = false;
  (async () => {
    let after = null;
    while (!stopped) {
      try {
        if (after === null) after = (await api('/events?after=now')).next;
        const page = await api(`/events?after=${after}&wait=${kWaitS}`);
        if (stopped) return;
        after = page.next;
        if (page.events.length) onEvents(page.events);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, kRetryMs));
      }
    }
  })();
  return { stop: () => { stopped = true; } };
}

// One line about an event, for the notice: "churn v3 stage.changed (staging → production) by bob".
export function describe(e) {
  const what = e.model ? `${e.model}${e.version ? ` v${e.version}` : ''} ` : '';
  const move = e.type === 'stage.changed' ? ` (${e.data.from} → ${e.data.to})` : '';
  return `${what}${e.type}${move} by ${e.actor}`;
}
