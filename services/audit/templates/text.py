"""The public page's words, in Bahasa Indonesia (the default) and English."""

from __future__ import annotations

from typing import Literal

Lang = Literal["id", "en"]
LANGS: tuple[Lang, ...] = ("id", "en")

TEXT: dict[str, dict[Lang, str]] = {
    "title": {
        "id": "Transparansi Bansos Tanjung Barat",
        "en": "Tanjung Barat social assistance: transparency",
    },
    "intro": {
        "id": "Angka di halaman ini dihitung dari buku besar publik (ledger) yang dapat "
        "diperiksa siapa saja. Tidak ada nama, NIK atau alamat. Jumlah di bawah lima "
        "ditampilkan sebagai «<5».",
        "en": "The figures on this page are computed from the public ledger, which anyone "
        "can check. No names, NIKs or addresses. Counts below five are shown as «<5».",
    },
    "nav_page": {"id": "Ringkasan", "en": "Overview"},
    "nav_schedule": {"id": "Jadwal posko", "en": "Posko schedule"},
    "nav_cek": {"id": "Cek bansos", "en": "Check your aid"},
    "switch": {"id": "English", "en": "Bahasa Indonesia"},
    "totals": {"id": "Total", "en": "Total"},
    "allocated_idr": {"id": "Dialokasikan", "en": "Allocated"},
    "received_idr": {"id": "Diterima warga", "en": "Received"},
    "per_rw": {"id": "Per RW", "en": "Per RW"},
    "households": {
        "id": "Rumah tangga layak (putaran terakhir)",
        "en": "Eligible households (latest round)",
    },
    "allocated": {"id": "Alokasi", "en": "Allocations"},
    "received": {"id": "Sudah diterima", "en": "Handed over"},
    "outstanding": {"id": "Belum diterima", "en": "Not yet received"},
    "progress": {"id": "Kemajuan", "en": "Progress"},
    "complaints_filed": {"id": "Pengaduan", "en": "Complaints"},
    "appeals_filed": {"id": "Banding", "en": "Appeals"},
    "appeals_upheld": {"id": "Banding dikabulkan", "en": "Appeals upheld"},
    "residents_reached": {"id": "Warga ikut sosialisasi", "en": "Residents reached (outreach)"},
    "cases_opened": {"id": "Kasus pendampingan", "en": "Mentoring cases"},
    "chart_idr": {
        "id": "Rupiah dialokasikan dan diterima per RW",
        "en": "Rupiah allocated and received per RW",
    },
    "rounds": {"id": "Putaran penyaluran", "en": "Distribution rounds"},
    "programme": {"id": "Program", "en": "Programme"},
    "period": {"id": "Periode", "en": "Period"},
    "days": {"id": "Hari posko", "en": "Posko days"},
    "status": {"id": "Status", "en": "Status"},
    "endorsed": {"id": "disepakati warga", "en": "endorsed by the community"},
    "not_endorsed": {"id": "belum disepakati", "en": "not yet endorsed"},
    "closed": {"id": "ditutup", "en": "closed"},
    "undelivered": {"id": "Tidak tersalurkan", "en": "Undelivered"},
    "training": {"id": "Pelatihan", "en": "Training"},
    "category": {"id": "Bidang", "en": "Category"},
    "courses": {"id": "Kelas", "en": "Courses"},
    "capacity": {"id": "Kursi", "en": "Seats"},
    "enrolled": {"id": "Peserta", "en": "Enrolled"},
    "completed": {"id": "Lulus", "en": "Completed"},
    "withdrawn": {"id": "Mundur", "en": "Withdrew"},
    "complaints": {"id": "Pengaduan", "en": "Complaints"},
    "filed": {"id": "Diajukan", "en": "Filed"},
    "acknowledged": {"id": "Diterima petugas", "en": "Acknowledged"},
    "escalated": {"id": "Dieskalasi", "en": "Escalated"},
    "resolved": {"id": "Selesai", "en": "Resolved"},
    "open": {"id": "Masih terbuka", "en": "Still open"},
    "past_sla": {
        "id": "Terbuka lewat batas {days} hari (paling sedikit)",
        "en": "Open past the {days}-day limit (at least)",
    },
    "sla_chart": {
        "id": "Lama penyelesaian pengaduan per RW (90% selesai dalam … hari; garis = batas "
        "{days} hari)",
        "en": "Time to resolve complaints per RW (90% resolved within … days; line = the "
        "{days}-day limit)",
    },
    "times": {"id": "Lama birokrasi", "en": "Bureaucracy times"},
    "step": {"id": "Langkah", "en": "Step"},
    "count": {"id": "Jumlah", "en": "Count"},
    "median": {"id": "Median (hari)", "en": "Median (days)"},
    "p90": {"id": "90% dalam (hari)", "en": "90% within (days)"},
    "month": {"id": "Bulan", "en": "Month"},
    "findings": {"id": "Temuan pengawasan per aturan", "en": "Oversight findings per rule"},
    "rule": {"id": "Aturan", "en": "Rule"},
    "none_yet": {"id": "Belum ada data.", "en": "No data yet."},
    "ledger": {"id": "Buku besar (ledger)", "en": "The ledger"},
    "ledger_size": {"id": "Jumlah catatan", "en": "Entries"},
    "checkpoint": {"id": "Checkpoint terakhir", "en": "Latest checkpoint"},
    "tree_size": {"id": "Ukuran pohon", "en": "Tree size"},
    "root": {"id": "Akar (root)", "en": "Root"},
    "witnesses": {"id": "Saksi yang menandatangani", "en": "Witnesses who cosigned"},
    "verify_how": {
        "id": "Cara memeriksa sendiri: unduh semua catatan dan periksa tanda tangan serta "
        "akarnya dengan perintah berikut (kunci publik di /ledger/public-key).",
        "en": "Check it yourself: download every entry and check the signature and the root "
        "with this command (public key at /ledger/public-key).",
    },
    "schedule_title": {"id": "Jadwal posko penyaluran", "en": "Posko schedule"},
    "schedule_intro": {
        "id": "Kapan dan di mana bansos dibagikan, hari ini dan seterusnya.",
        "en": "When and where aid is handed out, today and later.",
    },
    "place": {"id": "Tempat", "en": "Place"},
    "day": {"id": "Hari", "en": "Day"},
    "no_poskos": {"id": "Belum ada jadwal posko.", "en": "No posko scheduled."},
    "cek_title": {"id": "Cek bansos", "en": "Check your aid"},
    "cek_intro": {
        "id": "Masukkan kode tanda terima yang Anda dapat saat menerima bantuan (BT-…). "
        "Browser Anda sendiri memeriksa bahwa catatannya ada di buku besar publik.",
        "en": "Enter the receipt code you were given at hand-over (BT-…). Your own browser "
        "checks that its entry is in the public ledger.",
    },
    "code": {"id": "Kode tanda terima", "en": "Receipt code"},
    "check": {"id": "Periksa", "en": "Check"},
    "cek_privacy": {
        "id": "Kode tidak disimpan. Tidak ada daftar penerima yang diterbitkan.",
        "en": "The code is not stored. No list of recipients is published.",
    },
    "rp": {"id": "Rp", "en": "IDR"},
    "dash": {"id": "—", "en": "—"},
    "all_rw": {"id": "semua RW", "en": "all RWs"},
}

STEPS: dict[str, dict[Lang, str]] = {
    "registered_to_surveyed": {"id": "Pendaftaran → survei", "en": "Registration → survey"},
    "surveyed_to_eligible": {"id": "Survei → layak", "en": "Survey → eligible"},
    "registered_to_eligible": {"id": "Pendaftaran → layak", "en": "Registration → eligible"},
    "eligible_to_allocated": {"id": "Layak → alokasi", "en": "Eligible → allocated"},
    "allocated_to_received": {"id": "Alokasi → diterima", "en": "Allocated → received"},
    "complaint_filed_to_acknowledged": {
        "id": "Pengaduan → ditanggapi",
        "en": "Complaint → acknowledged",
    },
    "complaint_filed_to_resolved": {"id": "Pengaduan → selesai", "en": "Complaint → resolved"},
}

RULES: dict[str, dict[Lang, str]] = {
    "handover_without_allocation": {
        "id": "Penyerahan tanpa alokasi",
        "en": "Hand-over without allocation",
    },
    "handover_twice": {"id": "Penyerahan dua kali", "en": "Handed over twice"},
    "allocation_not_eligible": {
        "id": "Alokasi ke rumah tangga tidak layak",
        "en": "Allocation to a household not eligible",
    },
    "allocation_inactive_household": {
        "id": "Alokasi ke rumah tangga nonaktif",
        "en": "Allocation to an inactive household",
    },
    "handover_after_deactivation": {
        "id": "Penyerahan setelah rumah tangga dinonaktifkan",
        "en": "Hand-over after deactivation",
    },
    "officer_not_certified": {
        "id": "Petugas tanpa sertifikat berlaku",
        "en": "Officer without a valid certificate",
    },
    "round_not_endorsed": {
        "id": "Putaran belum disepakati warga",
        "en": "Round not endorsed",
    },
    "outside_posko_day": {"id": "Di luar hari posko", "en": "Outside the posko days"},
    "backdated_receipt": {"id": "Tanda terima dimundurkan", "en": "Backdated receipt"},
    "evidence_reused": {"id": "Bukti dipakai dua kali", "en": "Evidence used twice"},
    "officer_two_places": {
        "id": "Petugas di dua posko dalam satu jam",
        "en": "Officer at two poskos within an hour",
    },
    "nik_in_two_households": {
        "id": "Satu NIK di dua rumah tangga aktif",
        "en": "One NIK in two active households",
    },
    "budget_exceeded": {"id": "Melebihi anggaran", "en": "Spending beyond budget"},
    "complaint_past_sla": {"id": "Pengaduan lewat batas waktu", "en": "Complaint past its SLA"},
    "completion_without_attendance": {
        "id": "Lulus tanpa kehadiran cukup",
        "en": "Completion without enough attendance",
    },
    "closure_mismatch": {
        "id": "Rekap penutupan tidak cocok",
        "en": "Round closure totals do not match",
    },
    "recipient_many_households": {
        "id": "Satu penerima untuk banyak rumah tangga",
        "en": "One recipient for many households",
    },
    "amount_not_benefit": {
        "id": "Jumlah tidak sesuai manfaat",
        "en": "Amount differs from the benefit",
    },
    "handover_after_close": {
        "id": "Penyerahan setelah putaran ditutup",
        "en": "Hand-over after the round closed",
    },
    "handover_at_night": {"id": "Penyerahan pada malam hari", "en": "Hand-over at night"},
    "allocation_outside_round": {
        "id": "Alokasi di luar RW putaran",
        "en": "Allocation outside the round's RWs",
    },
    "verification_discrepancy": {
        "id": "Temuan verifikasi penerima",
        "en": "Discrepancy found verifying with the recipient",
    },
}

CATEGORIES: dict[str, dict[Lang, str]] = {
    "handicraft": {"id": "Kerajinan", "en": "Handicraft"},
    "digital_skills": {"id": "Keterampilan digital", "en": "Digital skills"},
    "micro_business": {"id": "Usaha mikro", "en": "Micro business"},
}


def t(lang: Lang, key: str, **values: object) -> str:
    text = TEXT[key][lang]
    return text.format(**values) if values else text


def label(table: dict[str, dict[Lang, str]], code: str, lang: Lang) -> str:
    """A code's label, or the code itself when it has none (a new rule shows as is)."""
    found = table.get(code)
    return found[lang] if found else code
