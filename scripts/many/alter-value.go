// alter-value: rewrite, in place, the newest revision of one etcd key in a COPY of a bbolt file so
// that its value differs by one byte at the same revision — what a member whose db was altered
// after the fact (or that applied an entry differently, etcd-io/etcd#13766) holds.
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go run alter-value.go COPY.db /registry/configmaps/ns/name
//
// Uses Debian's go.etcd.io/bbolt (golang-github-coreos-bbolt-dev) and etcd's mvccpb
// (golang-etcd-server-dev, mvcc/mvccpb/kv.pb.go); the key bucket layout follows
// mvcc/revision.go (revToBytes) and mvcc/kvstore.go.
package main

import (
	"bytes"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: alter-value COPY.db ETCD-KEY")
		os.Exit(2)
	}
	db, err := bolt.Open(os.Args[1], 0600, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	target := []byte(os.Args[2])
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("key"))
		var last []byte
		var kv mvccpb.KeyValue
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var x mvccpb.KeyValue
			if err := x.Unmarshal(v); err != nil {
				return err
			}
			if bytes.Equal(x.Key, target) {
				last = append([]byte(nil), k...)
				kv = x
			}
		}
		if last == nil {
			return fmt.Errorf("key %s not found", target)
		}
		i := bytes.LastIndexByte(kv.Value, 'x')
		if i < 0 {
			return fmt.Errorf("no byte to alter in %s", target)
		}
		kv.Value = append([]byte(nil), kv.Value...)
		kv.Value[i] = 'y'
		nv, err := kv.Marshal()
		if err != nil {
			return err
		}
		fmt.Printf("altered %s at bucket key %x (mod_revision %d)\n", target, last, kv.ModRevision)
		return b.Put(last, nv)
	})
	if err != nil {
		panic(err)
	}
}
