// cek bansos: find a hand-over by its receipt code, then verify IN THIS BROWSER that its
// leaf is in the ledger: leaf hash = SHA-256(0x00 || leaf_data), the RFC 9162 inclusion
// proof leads to the checkpoint's root, the signed note names that root, and the leaf's
// public view says what the page shows. WebCrypto only; nothing is sent anywhere else.
"use strict";
(function () {
  const TEXT = {
    id: {
      checking: "Memeriksa…",
      programme: "Program", period: "Periode", rw: "RW", amount: "Jumlah", day: "Tanggal",
      place: "Posko", package: "Paket", index: "Nomor catatan di ledger",
      tree: "Checkpoint (ukuran pohon)", root: "Akar", witnesses: "Saksi yang menandatangani",
      verified: "Terverifikasi di browser Anda: catatan ini ada di buku besar publik.",
      failed: "Verifikasi GAGAL: ",
      notFound: "Kode tidak ditemukan. Periksa kembali kode Anda, atau tanyakan ke posko.",
      badCode: "Format kode salah (kolom «{field}»): contoh BT-7K3M-9QXP-4D2A.",
      limited: "Terlalu banyak percobaan. Coba lagi sebentar lagi.",
      error: "Tidak dapat memeriksa sekarang: ",
      noCrypto: "Browser ini tidak dapat memeriksa (WebCrypto perlu https atau localhost).",
      why: { leaf: "hash catatan tidak cocok", root: "akar tidak cocok dengan checkpoint",
             note: "checkpoint bertanda tangan tidak menyebut akar ini",
             view: "isi catatan tidak sama dengan yang ditampilkan" },
    },
    en: {
      checking: "Checking…",
      programme: "Programme", period: "Period", rw: "RW", amount: "Amount", day: "Day",
      place: "Posko", package: "Package", index: "Ledger entry number",
      tree: "Checkpoint (tree size)", root: "Root", witnesses: "Witnesses who cosigned",
      verified: "Verified in your browser: this entry is in the public ledger.",
      failed: "Verification FAILED: ",
      notFound: "Code not found. Check your code, or ask at the posko.",
      badCode: "Wrong code format (field «{field}»): e.g. BT-7K3M-9QXP-4D2A.",
      limited: "Too many tries. Try again in a moment.",
      error: "Cannot check now: ",
      noCrypto: "This browser cannot verify (WebCrypto needs https or localhost).",
      why: { leaf: "the entry's hash does not match", root: "the root does not match the checkpoint",
             note: "the signed checkpoint does not name this root",
             view: "the entry does not say what is shown" },
    },
  };

  const form = document.getElementById("cek-form");
  const out = document.getElementById("cek-result");
  const lang = form.dataset.lang === "en" ? "en" : "id";
  const m = TEXT[lang];

  function bytes(b64) {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  async function sha256(...parts) {
    const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { buf.set(p, at); at += p.length; }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  }

  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  // RFC 9162 §2.1.3.2: the root an inclusion proof leads to (null if malformed).
  async function rootOf(index, size, leaf, path) {
    if (index >= size) return null;
    let fn = index, sn = size - 1, r = leaf;
    for (const p of path) {
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(Uint8Array.of(1), p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await sha256(Uint8Array.of(1), r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  // What failed, or null when everything holds.
  async function verify(reply) {
    const data = bytes(reply.leaf_data);
    const leaf = await sha256(Uint8Array.of(0), data);
    if (!same(leaf, bytes(reply.proof.leaf_hash))) return "leaf";
    const root = await rootOf(reply.index, reply.proof.tree_size, leaf,
                              reply.proof.hashes.map(bytes));
    if (!root || !same(root, bytes(reply.checkpoint.root_hash))) return "root";
    const lines = reply.checkpoint.note.split("\n");
    if (lines[1] !== String(reply.proof.tree_size) || lines[2] !== reply.checkpoint.root_hash
        || reply.checkpoint.tree_size !== reply.proof.tree_size) return "note";
    const view = JSON.parse(new TextDecoder().decode(data)).public;
    const shown = reply.handed_over;
    const holds = view.type === "distribution.aid_received" && view.programme === shown.programme
      && view.rw === shown.rw && view.amount_idr === shown.amount_idr && view.day === shown.day
      && view.round_id === shown.round_id;
    return holds ? null : "view";
  }

  function money(n) {
    const grouped = n.toLocaleString(lang === "id" ? "id-ID" : "en-US");
    return (lang === "id" ? "Rp " : "IDR ") + grouped;
  }

  function row(dl, label, value, field) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    if (field) dd.dataset.field = field;
    dl.append(dt, dd);
  }

  function status(text, ok) {
    const p = document.createElement("p");
    p.id = "cek-status";
    p.className = ok ? "ok" : "bad";
    p.dataset.verified = ok ? "true" : "false";
    p.textContent = text;
    return p;
  }

  function show(reply) {
    const h = reply.handed_over;
    const card = document.createElement("div");
    card.className = "card";
    const dl = document.createElement("dl");
    row(dl, m.programme, h.programme, "programme");
    if (h.period) row(dl, m.period, h.period, "period");
    row(dl, m.rw, h.rw, "rw");
    row(dl, m.amount, money(h.amount_idr), "amount");
    row(dl, m.day, h.day, "day");
    if (h.place) row(dl, m.place, h.place, "place");
    if (h.package.length) {
      row(dl, m.package, h.package.map((i) => `${i.name} ${i.quantity} ${i.unit}`).join(", "),
          "package");
    }
    row(dl, m.index, String(reply.index), "index");
    row(dl, m.tree, String(reply.proof.tree_size), "tree_size");
    row(dl, m.root, reply.checkpoint.root_hash, "root");
    row(dl, m.witnesses, String(reply.checkpoint.cosignatures.length), "witnesses");
    card.append(dl);
    return card;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = form.elements.code.value.trim().toUpperCase();
    out.replaceChildren(status(m.checking, false));
    out.firstChild.removeAttribute("data-verified");
    let reply;
    try {
      reply = await fetch("/cek/receipts", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code }),
      });
    } catch (e) {
      out.replaceChildren(status(m.error + e, false));
      return;
    }
    if (reply.status === 404) { out.replaceChildren(status(m.notFound, false)); return; }
    if (reply.status === 422) {
      const body = await reply.json().catch(() => ({}));
      const field = (body.details && body.details[0] && body.details[0].field) || "code";
      out.replaceChildren(status(m.badCode.replace("{field}", field), false));
      return;
    }
    if (reply.status === 429) { out.replaceChildren(status(m.limited, false)); return; }
    if (!reply.ok) {
      const body = await reply.json().catch(() => ({}));
      out.replaceChildren(status(m.error + (body.message || reply.status), false));
      return;
    }
    const found = await reply.json();
    const card = show(found);
    if (!window.crypto || !crypto.subtle) {
      out.replaceChildren(card, status(m.noCrypto, false));
      return;
    }
    let failed;
    try {
      failed = await verify(found);
    } catch (e) {
      failed = "leaf";
    }
    out.replaceChildren(card, failed ? status(m.failed + m.why[failed], false)
                                     : status(m.verified, true));
  });
})();
