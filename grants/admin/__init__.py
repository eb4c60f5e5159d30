"""Ministry screens, one module per sub-domain. Every save calls a service in grants.services;
nothing writes around it. Importing the package registers every admin.
"""

from . import annual_reports, fund_years, partners, plans, projects, results

__all__ = ["annual_reports", "fund_years", "partners", "plans", "projects", "results"]
