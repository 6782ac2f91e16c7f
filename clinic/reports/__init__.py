"""Reports read from the visits: the daily register, LB1 monthly morbidity, the overdue chronic patients."""
