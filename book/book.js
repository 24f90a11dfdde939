/* The book's pages in the browser: typeset the formulas with KaTeX (served from ./katex), search
   the book with the index in search-index.js, and mark the current section in "On this page".
   Everything comes from the site's own folder: no request leaves it. */
(function () {
  "use strict";

  var MATH_DELIMITERS = [
    { left: "$$", right: "$$", display: true },
    { left: "\\[", right: "\\]", display: true },
    { left: "\\begin{equation}", right: "\\end{equation}", display: true },
    { left: "\\begin{equation*}", right: "\\end{equation*}", display: true },
    { left: "\\begin{align}", right: "\\end{align}", display: true },
    { left: "\\begin{align*}", right: "\\end{align*}", display: true },
    { left: "$", right: "$", display: false },
    { left: "\\(", right: "\\)", display: false },
  ];

  function typeset() {
    if (!window.renderMathInElement) return;
    document.querySelectorAll("main, .book-toc").forEach(function (element) {
      window.renderMathInElement(element, {
        delimiters: MATH_DELIMITERS,
        throwOnError: false,
        ignoredClasses: ["book-search-results"],
      });
    });
    document.body.classList.add("book-math-done");
  }

  // ---- search ----------------------------------------------------------------------------
  function fold(text) {
    return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }

  function terms(query) {
    return fold(query).match(/[a-z0-9_]+/g) || [];
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  // A section's searchable text: its prose first, then its code, so that a snippet shows the
  // prose where the word is there.
  function fullText(entry) {
    return entry.code ? (entry.text ? entry.text + " " + entry.code : entry.code) : entry.text;
  }

  // The folded text with, for each of its characters, the index of the character of `text` it
  // came from: folding may change the length ("…" becomes "...", "p̄" becomes "p").
  function foldWithMap(text) {
    var folded = "", map = [];
    for (var i = 0; i < text.length; i++) {
      var f = fold(text[i]);
      for (var j = 0; j < f.length; j++) map.push(i);
      folded += f;
    }
    map.push(text.length);
    return { text: folded, map: map };
  }

  var prepared = null;
  function entries() {
    if (!prepared) {
      prepared = (window.BOOK_SEARCH_INDEX || []).map(function (entry) {
        var full = foldWithMap(fullText(entry));
        return { entry: entry, text: full.text, map: full.map, heading: fold(entry.heading), title: fold(entry.title) };
      });
    }
    return prepared;
  }

  // Each word of the query must begin a word of the section (so "relax" finds "relaxation");
  // a match in the section's heading counts more than one in its text.
  function search(query) {
    var words = terms(query);
    if (!words.length) return [];
    var patterns = words.map(function (w) { return new RegExp("(^|[^a-z0-9_])" + escapeRegExp(w), "g"); });
    var results = [];
    entries().forEach(function (item) {
      var score = 0;
      for (var i = 0; i < patterns.length; i++) {
        var inText = (item.text.match(patterns[i]) || []).length;
        var inHeading = (item.heading.match(patterns[i]) || []).length;
        if (!inText && !inHeading) return;
        score += inText + 10 * inHeading;
      }
      results.push({ item: item, score: score });
    });
    results.sort(function (a, b) { return b.score - a.score; });
    return results.map(function (r) { return { entry: r.item.entry, folded: r.item.text, map: r.item.map, words: words }; });
  }

  function snippet(entry, folded, map, words) {
    var at = -1;
    for (var i = 0; i < words.length && at < 0; i++) {
      var m = new RegExp("(^|[^a-z0-9_])" + escapeRegExp(words[i])).exec(folded);
      if (m) at = map[m.index + m[1].length];
    }
    var full = fullText(entry);
    var start = Math.max(0, at - 60);
    var text = full.slice(start, start + 180);
    var html = escapeHtml(text);
    words.forEach(function (w) {
      html = html.replace(new RegExp("(^|[^A-Za-z0-9_])(" + escapeRegExp(w) + ")", "gi"), "$1<mark>$2</mark>");
    });
    return (start > 0 ? "… " : "") + html + (start + 180 < full.length ? " …" : "");
  }

  function showResults(box, query) {
    var found = search(query);
    if (!query.trim()) {
      box.hidden = true;
      box.innerHTML = "";
      document.body.classList.remove("book-searching");
      return;
    }
    var shown = found.slice(0, 30);
    var items = shown.map(function (r) {
      var e = r.entry;
      var href = e.page + (e.anchor ? "#" + encodeURIComponent(e.anchor) : "");
      var where = e.heading === e.title ? escapeHtml(e.title) : escapeHtml(e.title) + " › " + escapeHtml(e.heading);
      return '<li><a href="' + escapeHtml(href) + '"><span class="where">' + where + "</span>" +
        '<span class="snippet">' + snippet(e, r.folded, r.map, r.words) + "</span></a></li>";
    });
    var count = found.length === 1 ? "1 section" : found.length + " sections";
    box.innerHTML = '<p class="count">' + (found.length ? count + (found.length > shown.length ? ", the first " + shown.length + " shown" : "") : "Nothing found") + "</p>" +
      (items.length ? "<ol>" + items.join("") + "</ol>" : "");
    box.hidden = false;
    document.body.classList.add("book-searching");
  }

  function setUpSearch() {
    var input = document.getElementById("book-search-input");
    var box = document.getElementById("book-search-results");
    if (!input || !box) return;
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { showResults(box, input.value); }, 80);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        clearTimeout(timer);
        showResults(box, input.value);
        var first = box.querySelector("a");
        if (first && event.ctrlKey) first.click();
      } else if (event.key === "Escape") {
        input.value = "";
        showResults(box, "");
      }
    });
    var query = new URLSearchParams(window.location.search).get("q");
    if (query) {
      input.value = query;
      showResults(box, query);
    }
  }

  // ---- "On this page": mark the section being read --------------------------------------
  function setUpTocHighlight() {
    var links = Array.prototype.slice.call(document.querySelectorAll(".book-toc a[href^='#']"));
    if (!links.length) return;
    var byId = {};
    links.forEach(function (a) { byId[decodeURIComponent(a.getAttribute("href").slice(1))] = a; });
    var headings = Object.keys(byId).map(function (id) { return document.getElementById(id); }).filter(Boolean);
    var pending = false;
    function mark() {
      pending = false;
      var current = null;
      headings.forEach(function (h) { if (h.getBoundingClientRect().top < 120) current = h; });
      var bottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 4;
      if (bottom && window.scrollY > 0) current = headings[headings.length - 1];
      links.forEach(function (a) { a.classList.remove("active"); });
      if (current && byId[current.id]) byId[current.id].classList.add("active");
    }
    window.addEventListener("scroll", function () {
      if (!pending) { pending = true; window.requestAnimationFrame(mark); }
    }, { passive: true });
    mark();
  }

  window.bookSearch = search;
  document.addEventListener("DOMContentLoaded", function () {
    typeset();
    setUpSearch();
    setUpTocHighlight();
  });
})();
