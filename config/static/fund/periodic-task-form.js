// django-celery-beat's schedule form: under the crontab field, its schedule in words. The
// library writes this inline; here it is a file, which the Content-Security-Policy allows.
(function () {
  const $ = window.django && window.django.jQuery;
  const data = document.getElementById("readable-crontabs");
  if (!$ || !data) return;
  const readable = JSON.parse(data.textContent);
  const help = $(".field-crontab .help");
  const original = help.html();
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    const words = readable[$("#id_crontab").val()];
    help.empty().append(original, $("<br>"), document.createTextNode(words || ""));
  });
})();
