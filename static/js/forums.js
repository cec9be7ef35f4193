// Topic pages: bring the first unread post into view (the page already starts near it).
(function () {
  "use strict";
  if (window.location.hash) { return; }
  var first = document.querySelector("[data-first-unread]");
  if (first) { first.scrollIntoView({ block: "start" }); }
})();
