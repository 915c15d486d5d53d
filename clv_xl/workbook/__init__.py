"""The workbook template, built from code, and the macros behind its buttons.

* :mod:`~clv_xl.workbook.layout`: where everything is (each address once) and the formulas that go there.
* :mod:`~clv_xl.workbook.sheets`: the template builder (``clv-xl build-template``).
* :mod:`~clv_xl.workbook.examples`, :mod:`~clv_xl.workbook.sample_data`,
  :mod:`~clv_xl.workbook.reference`: what the sheets show: worked examples, seeded
  customers and transactions, the function reference.
* :mod:`~clv_xl.workbook.report`: the check rows and their report after a recalculation.
* :mod:`~clv_xl.workbook.vba`: the VBA project (xlwings wrappers, standalone module, buttons).
* :mod:`~clv_xl.workbook.macros`: the button macros and their plans; they run inside Excel
  (classic and xlwings Lite) and need only the core install.

Building the template (:mod:`~clv_xl.workbook.sheets`, :mod:`~clv_xl.workbook.vba`) needs the
``[template]`` extra; nothing here is imported by the functions (:mod:`clv_xl.udfs`).
"""
