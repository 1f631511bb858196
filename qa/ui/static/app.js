() => {
  // A click on a [n] marker (href "#cq-<turn>:<marker>") or on a cited sentence in the
  // source panel (data-cq-select="<turn>:<marker>") shows that citation. The chat's markup
  // cannot call Python itself, so the token goes into a hidden textbox and a hidden
  // button sends it.
  const MARKER_HREF = "#cq-";
  document.addEventListener(
    "click",
    (event) => {
      const target = event.target.closest(`[data-cq-select], a[href^="${MARKER_HREF}"]`);
      if (!target) return;
      event.preventDefault();
      event.stopPropagation();
      const box = document.querySelector("#cq-selection textarea, #cq-selection input");
      const send = document.querySelector("#cq-select");
      if (!box || !send) return;
      box.value = target.getAttribute("data-cq-select") || target.getAttribute("href").slice(MARKER_HREF.length);
      box.dispatchEvent(new Event("input", { bubbles: true }));
      send.click();
    },
    true,
  );
}
