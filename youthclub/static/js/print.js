// A print button without an inline handler.
document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
