// A loopback port where nothing listens (it was free a moment ago): for tests that need a refused connection.
// A fixed port such as 1 or 9 is not enough: a test or a person may have a server there.
import { createServer } from "node:net"

export const closedPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
