// A copy button without an inline handler: <button data-copy="ID"> copies the value of the field with that id
// and says so in the element named by aria-controls / data-copied (a live region).
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.hidden = false;  // without script the button would do nothing: it stays hidden
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copied);
    let copied = false;
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch {
      // no clipboard permission (an old browser, plain http): select the text so a long-press copies it
      field.focus();
      field.select();
    }
    if (status) status.textContent = copied ? button.dataset.done : button.dataset.manual;
  });
});
