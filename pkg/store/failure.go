package store

import (
	"errors"

	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"
)

// permanentMySQL are the MySQL/MariaDB server errors that writing the same
// rows again cannot fix: the content is refused, not the moment.
var permanentMySQL = map[uint16]bool{
	1048: true, // column cannot be null
	1062: true, // duplicate entry (the upserts never make one: a schema drift)
	1118: true, // row size too large
	1153: true, // packet bigger than max_allowed_packet
	1264: true, // out of range value
	1265: true, // data truncated
	1292: true, // incorrect (truncated) value
	1301: true, // result larger than max_allowed_packet
	1366: true, // incorrect string value (charset)
	1406: true, // data too long for column
	1451: true, // foreign key: row is referenced
	1452: true, // foreign key: no parent row
	1690: true, // value out of range in an expression
	3140: true, // invalid JSON (MySQL)
	3819: true, // check constraint violated (MySQL)
	4025: true, // check constraint violated (MariaDB, JSON validity)
}

// Permanent reports whether err is a write failure that retrying the same
// input cannot fix: ErrInvalidArgument, a packet over max_allowed_packet,
// constraint and data errors of either dialect. Connection losses, server
// restarts, deadlocks and lock timeouts are not permanent (see Contended),
// nor is an error the store cannot place: callers retry those.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrInvalidArgument) || errors.Is(err, mysql.ErrPktTooLarge) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return permanentMySQL[me.Number]
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		// SQLITE_TOOBIG (18), SQLITE_CONSTRAINT (19), SQLITE_MISMATCH (20),
		// SQLITE_RANGE (25), extended codes included.
		switch se.Code() & 0xff {
		case 18, 19, 20, 25:
			return true
		}
	}
	return false
}

// Contended reports a deadlock, a lock wait timeout or a busy database:
// failures of the moment that say nothing about the input, worth retrying
// however often they repeat.
func Contended(err error) bool { return retryable(err) }
