// live.js: the alert stream (GET /v1/events) shared by the pages: new alerts
// and trace job progress arrive without reloading.

const listeners = new Set();

export const live = {
  stopFn: null,
  connected: false,
  newAlerts: 0,
  onLost: null,
  readies: 0,
  start(stream) {
    if (this.stopFn) return;
    const badge = document.getElementById('alert-badge');
    const dot = document.getElementById('live');
    this.stopFn = stream('/v1/events', {
      onOpen: () => {},
      onError: () => {
        this.connected = false;
        dot.textContent = 'reconnecting';
        dot.classList.remove('on');
      },
      onEvent: (name, data) => {
        if (name === 'ready') {
          // A stream opened again may have missed events: show the page afresh.
          if (this.readies++ > 0 && this.onLost) this.onLost();
          this.connected = true;
          dot.textContent = 'live';
          dot.classList.add('on');
          document.body.setAttribute('data-live', '1');
        }
        if (name === 'alert') {
          this.newAlerts++;
          badge.hidden = false;
          badge.textContent = String(this.newAlerts);
        }
        if (name === 'lost' && this.onLost) this.onLost(); // missed events: show the page afresh
        for (const l of listeners) l(name, data);
      },
    });
  },
  stop() {
    if (this.stopFn) this.stopFn();
    this.stopFn = null;
    document.body.removeAttribute('data-live');
  },
  // on registers fn(name, data) while the element el is in the page.
  on(el, fn) {
    const wrapped = (name, data) => {
      if (!el.isConnected) {
        listeners.delete(wrapped);
        return;
      }
      fn(name, data);
    };
    listeners.add(wrapped);
  },
};
