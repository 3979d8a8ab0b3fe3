// Package e2e holds slapipe's end-to-end and fault tests: the whole pipeline
// (Prometheus -> etl -> Kafka -> datastorage -> MariaDB -> dataretrieval)
// on real servers, datastorage killed mid-batch, MariaDB crashed and
// restarted, undecodable messages dead-lettered, and the load benchmarks
// (datastorage throughput, retrieval latency). It has no non-test code: the
// tests read their servers from SLAPIPE_TEST_MYSQL_DSN and
// SLAPIPE_TEST_PROMETHEUS_URL, skip when they are unset and fail instead
// under CI=true; Kafka is an in-process kfake broker reached over loopback.
package e2e
