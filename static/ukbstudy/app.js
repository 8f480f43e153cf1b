/* Every page: behaviour that would otherwise be inline (the Content-Security-Policy allows no inline script).
   data-autosubmit on a form control: changing it submits its form (e.g. the liver fat page's field choice). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var control = event.target;
    if (control.hasAttribute && control.hasAttribute("data-autosubmit") && control.form) {
      control.form.submit();
    }
  });
}());
