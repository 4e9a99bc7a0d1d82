/* optviz: what Dash's components leave for a screen reader and a keyboard to trip on,
 * mended in the page as React renders it (a MutationObserver, at most once in 50 ms and
 * never in the frame that draws a new run; what the plots redraw is not looked at):
 *  - a dropdown's keyboard entry point is a hidden input (aria-hidden but focusable):
 *    it is the control a keyboard reaches, so it is named and announced as a combobox;
 *  - radio items and checklists are listboxes of options that wrap native inputs
 *    (interactive inside interactive): the inputs are the controls, the wrappers plain;
 *  - the plot's zoom and pan buttons (a pointer's tools) are out of the Tab order;
 *  - inputs and slider handles without a name take their field's label; a checklist of
 *    one checkbox (an optimizer row's, a toggle) is that checkbox, not a group.
 * axe-core (WCAG 2.1 A and AA) checks the result: tests/test_accessibility.py. */
(function () {
  "use strict";

  /* sliders outside a labelled field */
  var SLIDERS = {scrub: "animation step"};
  /* groups of options outside a labelled field */
  var GROUPS = {view: "view"};

  /* the words of the label of el's field: a wrapping label's own text, not the value
   * of the control inside it ("surface", not "surface Rosenbrock") */
  function fieldLabel(el) {
    var field = el.closest(".field, label, .override");
    var label = field && (field.matches("label") ? field : field.querySelector("label, .label"));
    if (!label) return "";
    var words = label.cloneNode(true);
    words.querySelectorAll(".dash-dropdown-wrapper, input, button, .dash-options-list, " +
                           ".dash-slider-container").forEach(function (c) { c.remove(); });
    return words.textContent.replace(/\s+/g, " ").trim();
  }

  function named(el) {
    return el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") ||
      (el.labels && el.labels.length);
  }

  function mend(root) {
    root.querySelectorAll(".dash-dropdown-focus-target").forEach(function (el) {
      var button = el.parentNode.querySelector("button.dash-dropdown");
      var open = button && button.getAttribute("aria-expanded") === "true" ? "true" : "false";
      if (el.getAttribute("aria-hidden")) el.removeAttribute("aria-hidden");
      if (el.getAttribute("role") !== "combobox") {
        el.setAttribute("role", "combobox");
        el.setAttribute("aria-haspopup", "listbox");
      }
      if (el.getAttribute("aria-expanded") !== open) el.setAttribute("aria-expanded", open);
      var text = fieldLabel(el) || (button ? button.textContent.trim() : "");
      if (text && !el.getAttribute("aria-label")) el.setAttribute("aria-label", text);
    });
    // (a dropdown's open menu is a real listbox of options: left alone)
    root.querySelectorAll(".dash-checklist, .dash-radioitems").forEach(function (list) {
      // one checkbox (an optimizer row's, a toggle) is a control of its own, named by its
      // words: no group around it (a group named like it, or by its component id, an
      // object's JSON for a row's: '{"row":"gd","type":"row-on"}', says it twice)
      var one = list.querySelectorAll("input").length === 1;
      var role = one ? "none" : list.classList.contains("dash-radioitems") ? "radiogroup" : "group";
      if (list.getAttribute("role") !== role) list.setAttribute("role", role);
      var text = one ? "" : fieldLabel(list) || GROUPS[list.id] || list.id;
      if (one && list.hasAttribute("aria-label")) list.removeAttribute("aria-label");
      if (text && list.getAttribute("aria-label") !== text) list.setAttribute("aria-label", text);
    });
    root.querySelectorAll(':is(.dash-checklist, .dash-radioitems) > ' +
                          ':is([role="option"], [aria-selected])').forEach(function (opt) {
      opt.removeAttribute("role");
      opt.removeAttribute("aria-selected");
    });
    root.querySelectorAll('[role="slider"]').forEach(function (el) {
      if (named(el)) return;
      var box = el.closest("[id]");
      var text = fieldLabel(el) || (box && SLIDERS[box.id]) || (box ? box.id : "");
      if (text) el.setAttribute("aria-label", text);
    });
    // the plot's zoom and pan modes act on a pointer's drag: no Tab stops for a keyboard
    // (which moves the start with the arrow keys, assets/optviz.js)
    root.querySelectorAll('.modebar-btn[data-attr="dragmode"]').forEach(function (el) {
      if (el.getAttribute("tabindex") !== "-1") el.setAttribute("tabindex", "-1");
    });
    // α's slider moves in log10 α: it says α itself (its read-out's words)
    var lr = root.querySelector("#lr [role=slider]"), said = document.getElementById("lr-text");
    if (lr && said && said.textContent && lr.getAttribute("aria-valuetext") !== said.textContent) {
      lr.setAttribute("aria-valuetext", said.textContent);
    }
    root.querySelectorAll("input:not([type=hidden]), textarea, select").forEach(function (el) {
      if (named(el)) return;
      var text = fieldLabel(el) || el.getAttribute("placeholder") || el.name || "";
      if (text) el.setAttribute("aria-label", text);
    });
  }

  /* what the animation rewrites every frame holds no control: not a reason to look */
  var QUIET = "#legend, #frame-text, #inspector, #gradcheck, #results, #run-summary, " +
    ".main-svg, canvas.optviz-frame, #lr-text, #equations, #scrub";
  var pending = false;
  function later(mutations) {
    if (mutations && mutations.every(function (m) {
      var el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      return el && el.closest && el.closest(QUIET);
    })) return;
    if (pending) return;
    pending = true;
    // (after the frame being drawn, not in it: a new run's paths go on the screen first)
    setTimeout(function () { pending = false; mend(document); }, 50);
  }
  function start() {
    mend(document);
    new MutationObserver(later).observe(document.body, {childList: true, subtree: true,
                                                        attributes: true,
                                                        attributeFilter: ["role", "aria-hidden",
                                                                          "aria-selected",
                                                                          "aria-expanded"]});
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
