"""The GoogleSQL gate: every statement the BigQuery adapter sends in the covered runs
(capture.py), analyzed by ZetaSQL with BigQuery's settings (analyzer.py, service.py) and
checked against BigQuery's documented rules the analyzer does not enforce (lint.py)."""
