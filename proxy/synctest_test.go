package proxy

import "testing/synctest"

func synctestWait() { synctest.Wait() }
