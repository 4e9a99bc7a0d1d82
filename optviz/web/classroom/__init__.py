"""Class mode: classes, challenges and submissions in a database (store), their rules
(classes) and the JSON API the page and scripts use (api)."""
