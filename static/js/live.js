// Live updates over one WebSocket. Everything here is an enhancement: pages work without it.
// - the header bell shows the unread count as it changes;
// - elements with data-live-channel="topic:12" (or "leaderboard", or "member") are subscribed,
//   and each event on their channel fires an htmx "live" event on them, so the page decides
//   what to refresh (e.g. hx-get=".../posts?after=..." hx-trigger="live" hx-swap="beforeend"):
//   the server renders the new content for this reader, with this reader's permissions;
//   The same element also gets "live-<type>" (e.g. "live-points", "live-post-created"), so
//   hx-trigger can pick one kind of event. data-live-throttle="ms" coalesces a burst into one
//   trigger at most every ms (the last event of the burst is never lost);
// - a topic's posts container (data-live-posts="/t/12/posts/") appends each new post, fetched
//   from that URL as this reader (a post they may not see answers 404 and is skipped);
// - "points" events update [data-points-of="<member id>"] figures and celebrate a rank-up;
// - every event is also dispatched on document as "kizuna:live" for other scripts.
// The socket reconnects with exponential back-off and jitter; a refusal (policy close) stops it.
(function () {
  "use strict";
  if (!("WebSocket" in window)) { return; }
  var bell = document.getElementById("bell");
  var count = document.getElementById("bell-count");
  var delay = 1000;
  var maxDelay = 60000;
  var socket = null;

  function channels() {
    var found = {};
    document.querySelectorAll("[data-live-channel]").forEach(function (el) {
      var name = el.getAttribute("data-live-channel");
      if (name && name !== "member") { found[name] = true; }
    });
    return Object.keys(found);
  }

  function setUnread(n) {
    if (!count) { return; }
    count.textContent = n > 99 ? "99+" : String(n);
    count.hidden = n <= 0;
    if (bell) {
      var label = bell.getAttribute("data-label") || "";
      bell.setAttribute("aria-label", n > 0 ? label + " (" + n + ")" : label);
    }
  }

  function addToList(items) {
    var list = document.getElementById("notification-list");
    if (!list || !items) { return; }
    items.forEach(function (item) {
      if (document.getElementById("notification-" + item.id)) { return; }
      var li = document.createElement("li");
      li.className = "notification unread";
      li.id = "notification-" + item.id;
      var link = document.createElement("a");
      link.href = item.url;
      link.textContent = item.text;
      li.appendChild(link);
      list.insertBefore(li, list.firstChild);
    });
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function trigger(el, name, event) {
    if (!window.htmx) { return; }
    var wait = parseInt(el.getAttribute("data-live-throttle") || "0", 10);
    if (!wait) { window.htmx.trigger(el, name, event); return; }
    var pending = el.kizunaPending || (el.kizunaPending = {});
    var first = !(name in pending);
    pending[name] = event;
    if (!first) { return; }
    window.setTimeout(function () {
      var last = pending[name];
      delete pending[name];
      if (el.isConnected) { window.htmx.trigger(el, name, last); }
    }, wait);
  }

  function appendPost(container, event) {
    var url = container.getAttribute("data-live-posts");
    if (!url || typeof event.post_id !== "number") { return; }
    // A reader who has not loaded the end of the topic gets the post with "More posts".
    if (container.querySelector(".more-posts")) { return; }
    if (document.getElementById("post-" + event.post_id)) { return; }
    fetch(url + event.post_id, {
      credentials: "same-origin",
      headers: { "HX-Request": "true", "Accept": "text/html" }
    }).then(function (response) {
      if (response.status !== 200) { return null; }
      return response.text();
    }).then(function (html) {
      if (!html || document.getElementById("post-" + event.post_id)) { return; }
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var post = holder.querySelector("#post-" + event.post_id);
      if (!post) { return; }
      post.classList.add("live-new");
      container.appendChild(post);
      if (window.htmx) { window.htmx.process(post); }
    }).catch(function () { /* the post shows on the next page load */ });
  }

  function celebrate(message) {
    var template = document.getElementById("live-flash");
    var main = document.getElementById("main");
    if (!template || !main) { return; }
    var flash = template.content.firstElementChild.cloneNode(true);
    flash.querySelector("span").textContent = message;
    flash.querySelector("button").addEventListener("click", function () { flash.remove(); });
    main.insertBefore(flash, main.firstChild);
    // Tell the server this rank-up was celebrated, so the next page does not repeat it.
    fetch("/points/celebrated", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken() }
    }).catch(function () { /* the next page celebrates instead */ });
  }

  function showPoints(event) {
    if (typeof event.member_id !== "number") { return; }
    var figures = {
      lifetime: event.lifetime_points,
      spendable: event.spendable_points
    };
    document.querySelectorAll('[data-points-of="' + event.member_id + '"]').forEach(function (el) {
      var value = figures[el.getAttribute("data-points") || "lifetime"];
      if (typeof value === "number") { el.textContent = String(value); }
    });
    if (event.celebration) { celebrate(event.celebration); }
  }

  function fire(channel, event) {
    document.dispatchEvent(new CustomEvent("kizuna:live", { detail: event }));
    var key = channel.indexOf("member:") === 0 ? "member" : channel;
    var named = "live-" + String(event.type || "event").replace(/[^a-z0-9]+/gi, "-");
    document.querySelectorAll('[data-live-channel="' + key + '"]').forEach(function (el) {
      if (event.type === "post.created" && el.hasAttribute("data-live-posts")) {
        appendPost(el, event);
      }
      trigger(el, "live", event);
      trigger(el, named, event);
    });
  }

  function onMessage(raw) {
    var event;
    try { event = JSON.parse(raw); } catch (e) { return; }
    if (typeof event.unread === "number") { setUnread(event.unread); }
    if (event.type === "notifications") { addToList(event.items); }
    if (event.type === "points") { showPoints(event); }
    if (event.channel) { fire(event.channel, event); }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws");
    socket.addEventListener("open", function () {
      channels().forEach(function (name) {
        socket.send(JSON.stringify({ op: "subscribe", channel: name }));
      });
    });
    socket.addEventListener("message", function (message) {
      delay = 1000;
      onMessage(message.data);
    });
    socket.addEventListener("close", function (closed) {
      socket = null;
      if (closed.code === 1008) { return; }
      var wait = Math.min(delay, maxDelay);
      delay = Math.min(delay * 2, maxDelay);
      window.setTimeout(connect, wait / 2 + Math.random() * wait / 2);
    });
  }

  connect();
})();
