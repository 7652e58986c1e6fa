/* Dates written by CKAN's JavaScript in the page's language (issue 11).
 *
 * main.js formats every `.automatic-local-datetime` with moment.locale(<html lang>), and the DataTables view
 * passes its language code to moment too; moment knows "zh-cn" but not "zh-hans-cn" (nor "zh_Hans_CN") and
 * falls back to English ("December 2, 2026, 7:40 AM"). Define the names CKAN uses as "zh-cn", before
 * main.js's initialisation runs (on document ready), keeping moment's global locale unchanged.
 */
(function (moment) {
  if (!moment || !moment.defineLocale) {
    return;
  }
  var global = moment.locale();
  ['zh-hans-cn', 'zh-hans'].forEach(function (name) {
    if (moment.locales().indexOf(name) === -1) {
      moment.defineLocale(name, {parentLocale: 'zh-cn'});
    }
  });
  moment.locale(global);
}(window.moment));
