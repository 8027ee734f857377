"""Manager reports (report_generator): figures from queries, charts, the email, the Report row."""
