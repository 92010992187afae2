// Config forms: the add/remove/move buttons post the form and the server shows it
// again; this keeps the page where it was, so the manager does not lose their place.
(function () {
  "use strict";
  var key = "pt-config-scroll:" + location.pathname;
  var saved = sessionStorage.getItem(key);
  if (saved !== null) {
    sessionStorage.removeItem(key);
    window.scrollTo(0, parseInt(saved, 10) || 0);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[name='_op']");
    if (button) sessionStorage.setItem(key, String(window.scrollY));
  });
})();
