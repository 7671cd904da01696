/**
 * Test certificates made with the `openssl` command in a temp dir: a CA, a
 * server certificate for 127.0.0.1 and localhost, and a client certificate,
 * all signed by that CA (plus a second, unrelated CA for negative tests).
 *
 * @module
 */

/** Paths of the files {@link makeCertificates} wrote. */
export interface TestCertificates {
  /** The temp dir holding them (remove it when done). */
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here (a client trusting only it rejects the server). */
  otherCaCert: string;
}

/** Whether the `openssl` command can be run. */
export async function hasOpenssl(): Promise<boolean> {
  try {
    const out = await new Deno.Command("openssl", {
      args: ["version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

const CURVE = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Makes a CA and a certificate + key it signed, named `name`. */
async function signed(dir: string, name: string, subject: string, ext: string): Promise<void> {
  await openssl(dir, [
    "req",
    ...CURVE,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject,
  ]);
  await Deno.writeTextFile(`${dir}/${name}.ext`, ext);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-sha256",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  ]);
}

/** Writes a fresh CA, server and client certificates into a new temp dir. */
export async function makeCertificates(): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "lm-certs-" });
  const ca = (name: string, cn: string) =>
    openssl(dir, [
      "req",
      "-x509",
      ...CURVE,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
    ]);
  await ca("ca", "Lagermeister Test CA");
  await ca("other-ca", "Unrelated Test CA");
  await signed(
    dir,
    "server",
    "/CN=localhost",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  await signed(dir, "client", "/CN=lagermeister-client", "extendedKeyUsage=clientAuth\n");
  return {
    dir,
    caCert: `${dir}/ca.pem`,
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server.key`,
    clientCert: `${dir}/client.pem`,
    clientKey: `${dir}/client.key`,
    otherCaCert: `${dir}/other-ca.pem`,
  };
}

/**
 * Renews the server certificate as a certificate manager does: a new key
 * and a certificate for `/CN=<cn>` from the same CA are written beside the
 * old ones and renamed over them. Returns the new certificate's serial.
 */
export async function renewServerCertificate(
  certs: TestCertificates,
  cn: string,
): Promise<string> {
  await signed(
    certs.dir,
    "renewed",
    `/CN=${cn}`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  await Deno.rename(`${certs.dir}/renewed.key`, certs.serverKey);
  await Deno.rename(`${certs.dir}/renewed.pem`, certs.serverCert);
  return await certificateSerial(certs.serverCert);
}

/** The serial number (hex, as openssl prints it) of a PEM certificate file. */
export async function certificateSerial(path: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: ["x509", "-noout", "-serial", "-in", path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim().replace(/^serial=/, "");
}

/**
 * Connects with `openssl s_client` and returns the serial and subject of
 * the certificate the server presents (`undefined` when no TLS handshake).
 */
export async function servedCertificate(
  port: number,
  caCert: string,
  client?: { cert: string; key: string },
): Promise<{ serial: string; subject: string } | undefined> {
  const sc = await new Deno.Command("openssl", {
    args: [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "localhost",
      "-CAfile",
      caCert,
      "-verify_return_error",
      ...(client ? ["-cert", client.cert, "-key", client.key] : []),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(sc.stdout);
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
  if (!sc.success || !pem) return undefined;
  const x = new Deno.Command("openssl", {
    args: ["x509", "-noout", "-serial", "-subject"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = x.stdin.getWriter();
  await w.write(new TextEncoder().encode(pem));
  await w.close();
  const out = new TextDecoder().decode((await x.output()).stdout);
  return {
    serial: /serial=(\S+)/.exec(out)?.[1] ?? "",
    subject: /subject=(.+)/.exec(out)?.[1]?.trim() ?? "",
  };
}

/** A self-signed client certificate no test CA signed (written as `rogue.pem`/`rogue.key`). */
export async function makeRogueClientCertificate(
  certs: TestCertificates,
): Promise<{ cert: string; key: string }> {
  await openssl(certs.dir, [
    "req",
    "-x509",
    ...CURVE,
    "-keyout",
    "rogue.key",
    "-out",
    "rogue.pem",
    "-days",
    "1",
    "-subj",
    "/CN=rogue-client",
    "-addext",
    "extendedKeyUsage=clientAuth",
  ]);
  return { cert: `${certs.dir}/rogue.pem`, key: `${certs.dir}/rogue.key` };
}

/** The base64 body of a PEM file (what must never be printed for a key). */
export async function pemBody(path: string): Promise<string> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
}
