// The shop works without JavaScript; with it, htmx swaps parts of pages. When htmx gets an
// answer it does not swap (a 5xx, see the htmx-config meta tag) or no answer at all, say so.
(function () {
  function say(text) {
    var region = document.getElementById("flash");
    if (!region) { return; }
    var note = document.createElement("p");
    note.className = "notice notice-error";
    note.setAttribute("role", "alert");
    note.textContent = text;
    region.replaceChildren(note);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    say("Sorry, something went wrong (" + status + "). Please reload the page and try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    say("The shop could not be reached. Check your connection and try again.");
  });
})();
