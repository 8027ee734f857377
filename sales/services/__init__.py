"""Write paths of the sales app: meetings, proposals, clients, invoices and payments."""
