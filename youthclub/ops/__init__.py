"""Operations: health and readiness for load balancers, structured request logs, proxies, backups."""
