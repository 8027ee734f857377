"""Write paths of the crm app: one module per topic (leads, suppression, campaigns, imports, normalize)."""
