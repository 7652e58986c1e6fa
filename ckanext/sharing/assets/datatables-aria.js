/* The DataTables view's column names without "&nbsp;" (issue 11).
 *
 * Core's datatables_view.html pads each column heading with "&nbsp;"; DataTables builds the headings'
 * accessible names (aria-label "线路&nbsp;&nbsp;: 以升序排列此列") from their HTML source, so a screen reader
 * says "nbsp". After each draw, those entities become spaces.
 */
(function ($) {
  if (!$) {
    return;
  }
  $(document).on('draw.dt', function () {
    $('[aria-label*="&nbsp;"]').each(function () {
      this.setAttribute('aria-label', this.getAttribute('aria-label').replace(/(&nbsp;)+/g, ' ').replace(/\s+:/, ':'));
    });
  });
}(window.jQuery));
