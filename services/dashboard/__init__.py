"""The reviewers' dashboard, read and acted on: the overview of the calls (overview), the
list of submissions with its filters, columns and rows (listing), and moving several
submissions at once (bulk). Nothing here touches `request`: the web layer passes plain
values in (the user, the query-string arguments as a mapping, the language)."""
