package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// runningWrite returns the start of a write statement another connection
// of the same user runs on the current database right now, or "". A user
// sees its own threads in the process list without the PROCESS privilege.
func runningWrite(db *sql.DB) (string, error) {
	var info sql.NullString
	err := db.QueryRowContext(context.Background(), `SELECT LEFT(INFO, 200) FROM information_schema.PROCESSLIST
		WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND = 'Query'
		AND (INFO LIKE 'INSERT%' OR INFO LIKE 'DELETE%' OR INFO LIKE 'UPDATE%' OR INFO LIKE 'COMMIT%') LIMIT 1`).Scan(&info)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return info.String, err
}

// TestDatastorageKilledMidBatch runs `slapipe datastorage` as a subprocess,
// SIGKILLs it while it is storing N messages (some stored, not all), starts
// it again, and checks that exactly the N analyses are stored: nothing lost,
// nothing doubled, nothing half-written.
func TestDatastorageKilledMidBatch(t *testing.T) {
	baseDSN := testenv.MySQLDSN(t)
	const n, attempts = 10000, 5
	run := "0193a5b0-0000-7000-8000-00000000c0de"
	want := fixtures.Analyses(run, n)

	// Kill once part of the messages is stored AND a write of the next batch
	// is running on the server: the process dies inside a transaction. On a
	// busy machine datastorage can store all n between two polls; the kill
	// would then prove nothing, and the scenario starts over on a fresh
	// broker and database, five times at most.
	var (
		brokers []string
		st      *store.Store
		db      *sql.DB
		args    []string
		first   *process
		stored  int
		caught  string
	)
	for attempt := 1; ; attempt++ {
		brokers = testkit.Broker(t, 0)
		dsn := testenv.NewMySQLDatabase(t, baseDSN, "e2e")
		st = testkit.OpenStore(t, dsn)
		db = st.DB()
		createTopics(t, brokers, datastorage.DefaultPartitions, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))
		produce(t, brokers, slapipev1.DefaultTopic, analysisMessages(t, want)...)
		produce(t, brokers, slapipev1.RunsTopic(slapipev1.DefaultTopic), runMessage(t, runRecord(run, n)))

		args = []string{"datastorage", "--kafka-brokers", strings.Join(brokers, ","), "--mysql-dsn", dsn,
			"--kafka-topic", slapipev1.DefaultTopic, "--metrics-listen", "127.0.0.1:0", "--log-level", "warn"}
		first = startSlapipe(t, fmt.Sprintf("datastorage-1 (attempt %d)", attempt), args...)
		everything := false
		waitFor(t, "datastorage to be caught writing", func() (bool, error) {
			select {
			case <-first.exited:
				return false, errors.Join(errors.New("datastorage exited before it was killed"), first.err)
			default:
			}
			var err error
			if stored, err = countRows(context.Background(), db, "analyses"); err != nil || stored == 0 {
				return false, err
			}
			if stored == n {
				everything = true
				return true, nil
			}
			caught, err = runningWrite(db)
			return caught != "", err
		})
		first.kill(t)
		if !everything {
			// The write caught may have been the last one, done before
			// the kill landed.
			stored = mustCount(t, db, "analyses")
			everything = stored == n
		}
		if !everything {
			break
		}
		require.Less(t, attempt, attempts, "datastorage stored everything before it was killed, every time: the test proves nothing")
		t.Logf("attempt %d: datastorage stored all %d analyses before it was killed; starting over", attempt, n)
	}
	t.Logf("killed datastorage with %d of %d analyses stored, while running %.60q", stored, n, caught)

	second := startSlapipe(t, "datastorage-2", args...)
	t0 := time.Now()
	// The dead member holds its partitions until its session times out
	// (kafka-go's default: 30 s), so the restarted process waits that long.
	waitFor(t, "the restarted datastorage to store more", func() (bool, error) {
		n, err := countRows(context.Background(), db, "analyses")
		return n > stored, err
	})
	t.Logf("restarted datastorage stored its first rows after %s", time.Since(t0).Round(time.Millisecond))
	waitCommitted(t, brokers, datastorage.DefaultGroupID, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))
	t.Logf("restarted datastorage stored the rest in %s", time.Since(t0).Round(time.Millisecond))
	select {
	case <-second.exited:
		t.Fatalf("restarted datastorage exited: %v", second.err)
	default:
	}
	checkStoredExactly(t, db, st, want)
	runs, err := st.ListRuns(context.Background(), 0)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.Equal(t, run, runs[0].GetRunId())

	// SIGTERM, unlike SIGKILL, is a clean stop.
	second.terminate(t)
}
