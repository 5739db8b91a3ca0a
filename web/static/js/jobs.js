// jobs.js: trace jobs (POST /v1/traces), followed until done. onProgress
// gets the job object (status, txs_visited, elapsed_ms) as it runs.

import {api} from './api.js';
import {live} from './live.js';

export async function runTrace(req, {onProgress, el} = {}) {
  let job = await api('/v1/traces', {method: 'POST', body: req});
  if (onProgress) onProgress(job);
  // Progress comes over the event stream; the job is also asked for
  // directly, so a missed event only delays the answer.
  if (el) {
    live.on(el, (name, data) => {
      if (name === 'trace' && data.id === job.id && onProgress) onProgress(data);
    });
  }
  let wait = 100;
  for (;;) {
    job = await api('/v1/traces/' + job.id);
    if (onProgress) onProgress(job);
    if (job.status === 'done') return job;
    if (job.status === 'failed') {
      const e = new Error(job.error || 'trace failed');
      e.status = job.error_status;
      throw e;
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(1000, wait * 2);
  }
}
