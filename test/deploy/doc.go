// Package deploy holds no code of its own: its tests check the deployment
// files at the repository root against the code they deploy. They load
// docker-compose.yml with the compose-spec loader (what `docker compose`
// uses), prometheus.yml with Prometheus' own config loader, and the Grafana
// provisioning and dashboards; they run every SQL query of the dashboards,
// with Grafana's macros expanded, against MariaDB holding the output of a
// real pipeline run; and they scrape every component's /metrics after such
// a run.
package deploy
