// make-plain-bbolt writes a bbolt file that is not an etcd backend: one bucket "widgets" with a
// few keys, as any Go program using bbolt would write it. etcd-autopsy must refuse it with exit 2
// "not an etcd backend" instead of listing nothing.
//
// Uses Debian's bbolt sources (golang-github-coreos-bbolt-dev), the same DB.Update/CreateBucket
// calls as bbolt's README (go.etcd.io/bbolt README.md "Using buckets"):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go run scripts/io/make-plain-bbolt.go testdata/io/plain-bbolt.db
package main

import (
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: make-plain-bbolt OUT.db")
		os.Exit(2)
	}
	out := os.Args[1]
	_ = os.Remove(out)
	db, err := bolt.Open(out, 0o644, nil)
	if err != nil {
		panic(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("widgets"))
		if err != nil {
			return err
		}
		for i := 0; i < 20; i++ {
			if err := b.Put([]byte(fmt.Sprintf("widget-%02d", i)), []byte("blue")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	if err := db.Close(); err != nil {
		panic(err)
	}
}
