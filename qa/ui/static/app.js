() => {
  // Everything here works on the markup qa/ui/render.py writes; the chat's sanitiser keeps
  // only hrefs and classes, so markers and copy links carry their target in the href.
  //   [n] marker (href "#cq-<turn>:<marker>"): preview the cited sentence in place (hover, or
  //     tap on a touch screen) and show it in the source panel. The chat's markup cannot call
  //     Python itself, so the token goes into a hidden textbox and a hidden button sends it.
  //   copy link (href "#cq-copy-<turn>"): copy that answer as Markdown with its cited sentences.
  //   #cq-export: download the whole conversation as Markdown.
  // The Markdown and the previews come from the hidden #cq-transcript field (qa/ui/export.py).
  const MARKER_HREF = "#cq-";
  const COPY_HREF = "#cq-copy-";
  const NARROW = window.matchMedia("(max-width: 900px)");

  const transcript = () => {
    const field = document.querySelector("#cq-transcript textarea, #cq-transcript input");
    try {
      return JSON.parse((field && field.value) || "{}");
    } catch (error) {
      return {};
    }
  };

  const copyText = async (text) => {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (error) {
      // No clipboard API (plain http on another host): the old way still works from a click.
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      const copied = document.execCommand("copy");
      area.remove();
      return copied;
    }
  };

  // --- marker preview ----------------------------------------------------------------------
  const preview = document.createElement("div");
  preview.className = "cq-preview";
  preview.setAttribute("role", "tooltip");
  preview.hidden = true;
  document.body.appendChild(preview);
  let pinned = false;

  const hidePreview = () => {
    preview.hidden = true;
    pinned = false;
  };

  const showPreview = (marker, pin) => {
    const [turn, number] = marker.getAttribute("href").slice(MARKER_HREF.length).split(":");
    const turns = transcript().turns || [];
    const cited = turns[Number(turn)] && turns[Number(turn)].citations[number];
    if (!cited) return;
    preview.replaceChildren();
    const quote = document.createElement("blockquote");
    quote.className = "cq-preview-text";
    quote.textContent = cited.text;
    const source = document.createElement("div");
    source.className = "cq-preview-source";
    source.textContent = `[${number}] ${cited.source}`;
    preview.append(quote, source);
    if (NARROW.matches) {
      // On a phone the source panel is far below the chat: offer to go there.
      const jump = document.createElement("button");
      jump.type = "button";
      jump.className = "cq-preview-jump";
      jump.textContent = "Show in the source ↓ · 查看原文";
      jump.addEventListener("click", () => {
        hidePreview();
        const target = document.querySelector("#cq-panel mark.cq-selected") || document.querySelector("#cq-panel");
        target.scrollIntoView({ block: "center" });
      });
      preview.append(jump);
    }
    preview.hidden = false;
    pinned = pin;
    const box = marker.getBoundingClientRect();
    const width = Math.min(420, window.innerWidth - 16);
    preview.style.width = `${width}px`;
    preview.style.left = `${Math.max(8, Math.min(box.left, window.innerWidth - width - 8)) + window.scrollX}px`;
    const below = box.bottom + 8 + preview.offsetHeight < window.innerHeight;
    preview.style.top = `${(below ? box.bottom + 6 : box.top - preview.offsetHeight - 6) + window.scrollY}px`;
  };

  document.addEventListener("mouseover", (event) => {
    const marker = event.target.closest(`a.cq-marker[href^="${MARKER_HREF}"]`);
    if (marker && !pinned) showPreview(marker, false);
  });
  document.addEventListener("mouseout", (event) => {
    const marker = event.target.closest("a.cq-marker");
    if (marker && !pinned && !preview.contains(event.relatedTarget)) hidePreview();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") hidePreview();
  });

  // --- clicks ------------------------------------------------------------------------------
  const select = (token) => {
    const box = document.querySelector("#cq-selection textarea, #cq-selection input");
    const send = document.querySelector("#cq-select");
    if (!box || !send) return;
    box.value = token;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    send.click();
  };

  const download = (name, text) => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/markdown;charset=utf-8" }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  };

  document.addEventListener(
    "click",
    async (event) => {
      // select() below presses the hidden #cq-select button: that click is ours, not the user's.
      if (event.target.closest("#cq-select")) return;
      if (!preview.contains(event.target)) hidePreview();
      const copy = event.target.closest(`a[href^="${COPY_HREF}"]`);
      if (copy) {
        event.preventDefault();
        event.stopPropagation();
        const turn = (transcript().turns || [])[Number(copy.getAttribute("href").slice(COPY_HREF.length))];
        if (turn && (await copyText(turn.markdown))) {
          copy.classList.add("cq-copied");
          setTimeout(() => copy.classList.remove("cq-copied"), 1500);
        }
        return;
      }
      if (event.target.closest("#cq-export")) {
        const markdown = transcript().markdown;
        if (markdown) download(`citeqa-conversation-${new Date().toISOString().slice(0, 10)}.md`, markdown);
        return;
      }
      const target = event.target.closest(`[data-cq-select], a[href^="${MARKER_HREF}"]`);
      if (!target) return;
      event.preventDefault();
      event.stopPropagation();
      if (target.matches("a.cq-marker")) showPreview(target, true);
      select(target.getAttribute("data-cq-select") || target.getAttribute("href").slice(MARKER_HREF.length));
    },
    true,
  );
}
