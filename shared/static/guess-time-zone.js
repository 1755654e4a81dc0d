// Optional: preselect the browser's own time zone on the sign-up form. Without JavaScript the
// form offers the default (New York), and the person picks another in the list.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.querySelector("form[data-guess-time-zone] select[name=time_zone]");
  let guess;
  try {
    guess = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!select || !guess) return;
  for (const option of select.options) {
    if (option.value === guess) {
      select.value = guess;
      return;
    }
  }
});
