// playground.js mounts GraphiQL for rostermirror. It is loaded as a file (never inline) so the page's
// Content-Security-Policy can forbid inline scripts. Its settings come from data attributes on
// #graphiql, written by the Go handler.
(function () {
  'use strict';

  var KEY_STORAGE = 'rostermirror.apiKey';

  // GraphiQL's dialogs lock page scrolling by injecting a <style> element; the bundled library
  // (react-style-singleton) tags it with the global __webpack_nonce__ if one is set, and the CSP
  // allows styles carrying this response's nonce.
  var nonce = document.querySelector('meta[name="csp-nonce"]');
  if (nonce) {
    window.__webpack_nonce__ = nonce.content;
  }

  var mount = document.getElementById('graphiql');
  var endpoint = mount.dataset.endpoint;
  var defaultQuery = mount.dataset.defaultQuery;

  var form = document.getElementById('key-bar');
  var input = document.getElementById('api-key');
  var status = document.getElementById('api-key-status');

  function loadKey() {
    try {
      return window.localStorage.getItem(KEY_STORAGE) || '';
    } catch (e) {
      return '';
    }
  }

  function storeKey(key) {
    try {
      if (key) {
        window.localStorage.setItem(KEY_STORAGE, key);
      } else {
        window.localStorage.removeItem(KEY_STORAGE);
      }
    } catch (e) {
      // Storage disabled: the key still lives in the input for this page.
    }
  }

  // savedKey is the key requests use: what was last saved, not what is being typed.
  var savedKey = loadKey();

  function showStatus() {
    status.textContent = savedKey ? 'Key saved.' : 'No key: requests are sent without Authorization.';
  }

  // fetcher posts each operation to the endpoint with the saved key as a bearer token. A header
  // typed into GraphiQL's headers editor wins over the key bar. Whatever the server answers (a 401
  // included) is shown in the result pane: JSON as is, anything else wrapped in a GraphQL error.
  async function fetcher(params, opts) {
    var headers = new Headers((opts && opts.headers) || {});
    headers.set('Content-Type', 'application/json');
    headers.set('Accept', 'application/graphql-response+json, application/json');
    if (savedKey && !headers.has('Authorization')) {
      headers.set('Authorization', 'Bearer ' + savedKey);
    }
    var response = await window.fetch(endpoint, {
      method: 'POST',
      headers: headers,
      body: JSON.stringify(params),
      credentials: 'same-origin',
    });
    var text = await response.text();
    try {
      return JSON.parse(text);
    } catch (e) {
      var message = ('HTTP ' + response.status + ' ' + response.statusText).trim();
      return { errors: [{ message: text ? message + ': ' + text : message }] };
    }
  }

  var root = ReactDOM.createRoot(mount);
  var generation = 0;

  // render (re)mounts GraphiQL. Each saved key bumps the React key so GraphiQL remounts and fetches
  // the schema again with the new credentials; the query editor keeps its text (GraphiQL stores it).
  function render() {
    root.render(
      React.createElement(GraphiQL, {
        key: String(generation),
        fetcher: fetcher,
        defaultQuery: defaultQuery,
      }),
    );
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    savedKey = input.value.trim();
    input.value = savedKey;
    storeKey(savedKey);
    showStatus();
    generation++;
    render();
  });

  input.value = savedKey;
  showStatus();
  render();
})();
