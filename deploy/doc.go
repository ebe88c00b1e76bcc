// Package deploy holds what runs beside imgate rather than in it: the
// Prometheus scrape configuration and alert rules (deploy/prometheus) and
// the Grafana dashboard (deploy/grafana). It has no code; its test checks
// that every metric the dashboard and the alerts query is one imgate
// exports, so that a renamed or misspelled metric fails the build instead
// of leaving a panel empty or an alert silent.
package deploy
