"""Realistic Indonesian demo data, entered through the same services the forms use.

Every patient and visit goes through clinic.patients.service.register and clinic.visits.service.record with
Fields built like a submitted form, so it is validated exactly like user input (and logged in the access
log like user input). Places are real Kemendagri region codes (province.regency.district, as in the NIK);
names, addresses and clinical notes are invented. With a seed the data is reproducible (on the same day:
ages count back from today); running again with the same seed adds nothing, since the ids repeat.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from databases import Database

from clinic.accounts import queries as accounts
from clinic.accounts.passwords import one_time_password
from clinic.accounts.roles import DOCTOR, NURSE, REGISTRATION, CurrentUser
from clinic.fields import Fields
from clinic.outcome import Kind, Outcome
from clinic.patients import service as patient_service
from clinic.rules.nik import make_nik
from clinic.visits import service as visit_service

# Written to the access log where a request would give the client's address.
ADDRESS = "demo"
STAFF = (
    ("dokter", DOCTOR, "dr. Rina Kartika"),
    ("perawat", NURSE, "Ns. Agus Setiawan"),
    ("pendaftaran", REGISTRATION, "Wulan Sari"),
)
OLDEST = dt.date(1940, 1, 1)

Rx = tuple[str, str, str, str, str]  # drug, dose, frequency, route, duration


# ---------------------------------------------------------------------------------------------------------
# Places: real Kemendagri codes (the ones a NIK starts with) and real kelurahan/desa of each kecamatan.


@dataclass(frozen=True)
class Place:
    province: str
    regency: str
    district: str
    regency_name: str
    district_name: str
    villages: tuple[str, ...]
    village_kind: str = "Kel."  # "Desa" for a village with its own head
    rt_rw: bool = True  # Bali addresses name the banjar instead of RT/RW


def _places(province: str, regency: str, regency_name: str, *districts: tuple[Any, ...]) -> list[Place]:
    """Places from (district code, district name, villages[, "Desa"]) entries."""
    return [Place(province, regency, code, regency_name, name, villages, kind[0] if kind else "Kel.",
                  province != "51")
            for code, name, villages, *kind in districts]


BOGOR = _places(
    "32", "01", "Kab. Bogor",
    ("01", "Cibinong", ("Pakansari", "Tengah", "Cirimekar", "Sukahati", "Nanggewer")),
    ("02", "Gunung Putri", ("Wanaherang", "Bojong Nangka", "Tlajung Udik", "Ciangsana"), "Desa"),
    ("05", "Babakan Madang", ("Sentul", "Cijayanti", "Citaringgul"), "Desa"),
)
BANDUNG = _places(
    "32", "73", "Kota Bandung",
    ("02", "Coblong", ("Dago", "Sekeloa", "Lebak Siliwangi", "Cipaganti")),
    ("07", "Sukajadi", ("Pasteur", "Cipedes", "Sukabungah", "Sukawarna")),
    ("16", "Kiaracondong", ("Sukapura", "Kebon Jayanti", "Babakan Sari", "Cicaheum")),
    ("22", "Buahbatu", ("Sekejati", "Margasari", "Cijaura", "Jati Sari")),
)
SEMARANG = _places(
    "33", "74", "Kota Semarang",
    ("01", "Semarang Tengah", ("Miroto", "Sekayu", "Pandansari", "Pekunden")),
    ("02", "Semarang Utara", ("Bandarharjo", "Tanjung Mas", "Kuningan", "Panggung Lor")),
    ("10", "Tembalang", ("Tembalang", "Bulusan", "Sendangmulyo", "Rowosari")),
)
YOGYAKARTA = _places(
    "34", "71", "Kota Yogyakarta",
    ("01", "Tegalrejo", ("Kricak", "Karangwaru", "Tegalrejo", "Bener")),
    ("13", "Umbulharjo", ("Semaki", "Muja Muju", "Warungboto", "Pandeyan", "Giwangan")),
    ("14", "Kotagede", ("Rejowinangun", "Prenggan", "Purbayan")),
)
SURABAYA = _places(
    "35", "78", "Kota Surabaya",
    ("03", "Rungkut", ("Kali Rungkut", "Rungkut Kidul", "Medokan Ayu", "Penjaringan Sari")),
    ("04", "Wonokromo", ("Darmo", "Jagir", "Ngagel", "Sawunggaling")),
    ("08", "Gubeng", ("Airlangga", "Baratajaya", "Gubeng", "Kertajaya", "Mojo")),
)
MEDAN = _places(
    "12", "71", "Kota Medan",
    ("02", "Medan Sunggal", ("Lalang", "Sunggal", "Tanjung Rejo", "Simpang Tanjung")),
    ("07", "Medan Tuntungan", ("Tanjung Selamat", "Simpang Selayang", "Ladang Bambu", "Mangga")),
    ("11", "Medan Johor", ("Suka Maju", "Titi Kuning", "Kedai Durian", "Gedung Johor")),
    ("17", "Medan Baru", ("Petisah Hulu", "Babura", "Merdeka", "Padang Bulan")),
)
MEDAN_PETISAH = _places("12", "71", "Kota Medan",
                        ("19", "Medan Petisah", ("Sekip", "Petisah Tengah", "Sei Putih Tengah")))
PADANG = _places(
    "13", "71", "Kota Padang",
    ("08", "Pauh", ("Limau Manis", "Koto Lua", "Cupak Tangah", "Pisang")),
    ("09", "Kuranji", ("Pasar Ambacang", "Anduring", "Kalumbuk", "Korong Gadang")),
    ("10", "Nanggalo", ("Surau Gadang", "Kurao Pagang", "Gurun Laweh", "Kampung Olo")),
    ("11", "Koto Tangah", ("Lubuk Buaya", "Balai Gadang", "Parupuk Tabing", "Batipuh Panjang")),
)
BUGIS_LAND = _places(
    "73", "13", "Kab. Wajo",
    ("06", "Tempe", ("Siengkang", "Pattirosompe", "Tempe", "Maddukelleng", "Teddaopu")),
    ("08", "Tanasitolo", ("Tancung", "Mappadaelo", "Pincengpute", "Barutancung")),
) + _places("73", "14", "Kab. Sidenreng Rappang",
            ("07", "Maritengngae", ("Pangkajene", "Lautang Benteng", "Majjelling", "Lakessi")))
DENPASAR = _places(
    "51", "71", "Kota Denpasar",
    ("01", "Denpasar Selatan", ("Sesetan", "Panjer", "Renon", "Pedungan", "Sanur")),
    ("02", "Denpasar Timur", ("Kesiman", "Sumerta", "Dangin Puri", "Penatih")),
)
PECINAN = MEDAN_PETISAH + [SEMARANG[0], SURABAYA[2]]

STREETS = ("Melati", "Mawar", "Kenanga", "Anggrek", "Flamboyan", "Cempaka", "Dahlia", "Merpati", "Kutilang",
           "Cendrawasih", "Diponegoro", "Sudirman", "Ahmad Yani", "Pahlawan", "Merdeka", "Veteran", "Kartini",
           "Imam Bonjol", "Gajah Mada", "Hayam Wuruk", "Pattimura", "Teuku Umar", "Mangga", "Rambutan",
           "Nangka", "Kelapa Gading", "Pelita", "Bakti", "Swadaya", "Kemuning")
ESTATES = ("Griya Asri", "Bumi Indah", "Permata Hijau", "Taman Sari", "Graha Mulya", "Villa Mutiara")
ROMAN = ("I", "II", "III", "IV", "V", "VI")
BANJAR = ("Kaja", "Kelod", "Tengah", "Kangin", "Kauh", "Anyar")


# ---------------------------------------------------------------------------------------------------------
# People. Each group: where its members live, their religions (Dukcapil codes with weights), their names.


@dataclass(frozen=True)
class Group:
    places: Sequence[Place]
    religions: tuple[tuple[str, int], ...]
    male: tuple[str, ...]
    female: tuple[str, ...]
    male_second: tuple[str, ...] = ()
    female_second: tuple[str, ...] = ()
    elder_male: tuple[str, ...] = ()  # single or old-fashioned names of people born before ~1960
    elder_female: tuple[str, ...] = ()


CHILD_MALE = ("Rizky", "Fajar", "Bima", "Arya", "Daffa", "Raka", "Aditya", "Galih", "Satria", "Rafi", "Alif",
              "Farel", "Naufal", "Zidan")
CHILD_MALE_SECOND = ("Pratama", "Ramadhan", "Saputra", "Nugraha", "Wicaksono", "Putra", "Firmansyah",
                     "Maulana", "Hidayat", "Akbar", "Al Fatih")
CHILD_FEMALE = ("Aisyah", "Nabila", "Anindya", "Salsabila", "Keisha", "Zahra", "Alya", "Citra", "Naura",
                "Kirana", "Nayla", "Aurelia", "Syifa")
CHILD_FEMALE_SECOND = ("Putri", "Azzahra", "Larasati", "Maharani", "Ramadhani", "Safitri", "Anggraini",
                       "Khairunnisa", "Permata", "Nuraini")
MUSLIM_MALE = ("Ahmad", "Muhammad", "Rahmat", "Abdul", "Ismail", "Fauzi", "Irwan", "Syahrul", "Ridwan")
MUSLIM_FEMALE = ("Siti", "Nur", "Fatimah", "Aminah", "Rahmah", "Halimah", "Nurhayati", "Khadijah")

GROUPS: dict[str, Group] = {
    "jawa": Group(
        SEMARANG + YOGYAKARTA + SURABAYA + BOGOR[:1],
        (("islam", 86), ("catholic", 6), ("protestant", 6), ("belief", 2)),
        ("Budi", "Agus", "Joko", "Bambang", "Eko", "Heru", "Dwi", "Slamet", "Teguh", "Wahyu", "Sugeng",
         "Hadi", "Rudi", "Arif", "Bayu", "Dimas", "Yoga", "Anton"),
        ("Siti", "Sri", "Endang", "Tri", "Dewi", "Ratna", "Rini", "Puji", "Wulan", "Ayu", "Indah", "Yuni",
         "Retno", "Wahyu", "Kartika"),
        ("Santoso", "Prasetyo", "Susilo", "Wibowo", "Purnomo", "Setiawan", "Nugroho", "Raharjo", "Widodo",
         "Hidayat", "Kurniawan", "Saputro", "Pamungkas", "Hartono", "Sutrisno"),
        ("Wahyuni", "Lestari", "Handayani", "Rahayu", "Astuti", "Kusumawati", "Wulandari", "Purwanti",
         "Susanti", "Rahmawati", "Aminah", "Suryani", "Utami", "Setyaningsih"),
        ("Suparman", "Sutrisno", "Sukardi", "Paiman", "Karto Wiyono", "Sarmidi", "Wagiman", "Sukirno",
         "Tukimin", "Darmo Sumarto"),
        ("Sumiati", "Suwarni", "Tukiyem", "Painem", "Sainem", "Ngatini", "Sukinah", "Parmi", "Suratmi",
         "Mbok Sarinah"),
    ),
    "sunda": Group(
        BOGOR + BANDUNG,
        (("islam", 97), ("protestant", 2), ("catholic", 1)),
        ("Asep", "Ujang", "Dadang", "Cecep", "Yayan", "Deden", "Ade", "Iwan", "Dedi", "Jajang", "Engkus",
         "Rahmat", "Hendra", "Wawan"),
        ("Euis", "Neng", "Cucu", "Imas", "Enung", "Rika", "Tati", "Yati", "Eneng", "Nining", "Lilis", "Elis",
         "Iis", "Rina"),
        ("Saepudin", "Sopandi", "Suherman", "Hidayat", "Sofyan", "Kurniawan", "Supriatna", "Ridwan",
         "Permana", "Gunawan", "Sutisna", "Rustandi", "Mulyana", "Hermawan"),
        ("Komalasari", "Yulianti", "Cahyati", "Masitoh", "Nurhayati", "Rahmawati", "Sumiati", "Suryani",
         "Kurniasih", "Rosmiati", "Hermawati", "Sulastri", "Nurjanah"),
        ("Oman", "Karta", "Mamad", "Dayat", "Ohim", "Ento", "Odang", "Encep Suhendi"),
        ("Onah", "Icih", "Enok", "Iyah", "Kokom", "Eti", "Acih", "Ocoh"),
    ),
    "batak": Group(
        MEDAN,
        (("protestant", 60), ("catholic", 20), ("islam", 20)),
        ("Rudolf", "Maruli", "Parlindungan", "Togar", "Daniel", "Hotman", "Bonar", "Jonner", "Sahat",
         "Marihot", "Tigor", "Poltak", "Benny", "Roy", "Josua"),
        ("Rosmawati", "Mariana", "Lasma", "Tiur", "Debora", "Sarma", "Rotua", "Nurmala", "Hotmaida", "Rosita",
         "Lenny", "Ruth", "Intan"),
        ("Simanjuntak", "Siregar", "Sitompul", "Nainggolan", "Hutagalung", "Panjaitan", "Sinaga", "Silalahi",
         "Pardede", "Manurung", "Situmorang", "Simbolon", "Tampubolon", "Sihombing", "Pasaribu", "Hutapea"),
        elder_male=("Mangatas", "Binsar", "Halomoan", "Parulian"),
        elder_female=("Tiominar", "Rospita", "Nurmaida", "Lamria"),
    ),
    "minang": Group(
        PADANG,
        (("islam", 100),),
        ("Rizal", "Zulkifli", "Syafrizal", "Hendri", "Afrizal", "Yusrizal", "Darmawan", "Irwan", "Fauzi",
         "Yulizar", "Defri", "Erizal", "Masri", "Andika"),
        ("Yenni", "Nurhasanah", "Rosnidar", "Desi", "Fitri", "Yusnidar", "Rahmi", "Mardiana", "Elfi",
         "Yulia", "Syafrida", "Nelly", "Zuraida"),
        ("Chaniago", "Piliang", "Tanjung", "Koto", "Sikumbang", "Jambak", "Syahputra", "Efendi", "Putra"),
        ("Marlina", "Ratnasari", "Yanti", "Elvira", "Novita", "Hayati", "Susanti", "Fitriani"),
        ("Nasrul", "Bustami", "Syamsuddin", "Jamaris", "Amir Hamzah", "Sutan Mahmud"),
        ("Nuraini", "Rosmaniar", "Jawahir", "Siti Rahmah", "Upik Rosna", "Nurbaiti"),
    ),
    "bugis": Group(
        BUGIS_LAND,
        (("islam", 100),),
        ("Muhammad", "Abdul", "Baharuddin", "Hasanuddin", "Syamsuddin", "Arsyad", "Ridwan", "Amiruddin",
         "Sudirman", "Jamaluddin", "Syahrir", "Irfan", "Ilham", "Muh."),
        ("Sitti", "Hasnawati", "Nurhayati", "Rosdiana", "Besse", "Hasmiah", "Hadijah", "Rahmawati",
         "Nurjannah", "Suriani", "Fatimah", "Kasmawati", "Irmawati"),
        ("Rahman", "Arsyad", "Idris", "Yusuf", "Jufri", "Hamzah", "Kadir", "Saleh", "Akbar", "Hasan",
         "Mappangara", "Tenri Sau"),
        ("Aisyah", "Rahmah", "Tenri", "Nurul", "Hasanah", "Syam", "Mardiana", "Amir"),
        ("La Tanro", "La Baco", "Puang Sennang", "Lamba"),
        ("I Tenri", "Hj. Saenab", "I Baji", "Indo Ati"),
    ),
    "bali": Group(
        DENPASAR,
        (("hindu", 94), ("protestant", 3), ("catholic", 3)),
        ("Sudarma", "Suardana", "Sukadana", "Arsana", "Artawan", "Budiarta", "Wirawan", "Suarjana", "Adnyana",
         "Mahendra", "Darmawan", "Sutama", "Astawa", "Wiguna"),
        ("Ariani", "Sri Astuti", "Sukerti", "Suartini", "Dewi", "Ayu Lestari", "Sriasih", "Wahyuni",
         "Sumerti", "Murniasih", "Puspita Sari", "Purnamasari", "Ratna Dewi"),
    ),
    "tionghoa": Group(
        PECINAN,
        (("buddhist", 45), ("protestant", 25), ("catholic", 20), ("confucian", 10)),
        ("Hendra", "Yohanes", "Susanto", "Andi", "Rudy", "Teddy", "Willy", "Sugianto", "Jimmy", "Lukas",
         "Edwin", "Ferry", "Anton", "Harianto"),
        ("Linda", "Meiliana", "Lily", "Susan", "Yenny", "Vivian", "Melinda", "Fransiska", "Elisabeth",
         "Lanny", "Angelina", "Shirley", "Merry"),
        ("Gunawan", "Tanoto", "Lim", "Wijaya", "Salim", "Halim", "Tanjaya", "Chandra", "Sutanto", "Santoso",
         "Tjandra", "Setiadi", "Hartanto", "Kusuma"),
        elder_male=("Tan Kim Liong", "Lie Ah Kiong", "Oei Tjoen Hok", "Go Siong Tjie", "Liem Kok Tjiang"),
        elder_female=("Tan Siok Lan", "Lim Mei Hwa", "Go Lian Nio", "Oei Giok Lan", "Kwee Hong Nio"),
    ),
}
GROUP_WEIGHTS = (("jawa", 30), ("sunda", 22), ("batak", 12), ("minang", 10), ("bugis", 10), ("bali", 8),
                 ("tionghoa", 6))
MANDAILING = ("Lubis", "Harahap", "Nasution", "Siregar", "Daulay", "Hasibuan", "Pulungan", "Rangkuti")
BATAK_CHILD = (("Kevin", "Josua", "Gabriel", "Samuel", "Daniel", "Immanuel"),
               ("Grace", "Yohana", "Sarah", "Theresia", "Natalia", "Angel"))
BALI_CHILD = (("Aditya", "Dharma", "Surya", "Krisna", "Wisnu", "Arya"),
              ("Ayu", "Sinta", "Pradnya", "Intan", "Widya", "Sari"))
TIONGHOA_CHILD = (("Kevin", "Jason", "Ryan", "Vincent", "Felix", "Nathan"),
                  ("Cindy", "Jessica", "Michelle", "Vanessa", "Clarissa", "Audrey"))
BALI_ORDER = ((("I Wayan", "I Putu", "I Gede"), ("Ni Wayan", "Ni Putu", "Ni Luh Putu")),
              (("I Made", "I Kadek"), ("Ni Made", "Ni Kadek", "Ni Luh Made")),
              (("I Nyoman", "I Komang"), ("Ni Nyoman", "Ni Komang")),
              (("I Ketut",), ("Ni Ketut",)))
PHONE_PREFIXES = ("0811", "0812", "0813", "0821", "0822", "0823", "0852", "0853", "0856", "0857", "0858",
                  "0877", "0878", "0819", "0838", "0895", "0896", "0881")


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def _name(rng: random.Random, group_key: str, sex: str, age: float, religion: str) -> str:
    group = GROUPS[group_key]
    male = sex == "male"
    child = age < 20
    elder = age >= 62 and rng.random() < 0.6

    if group_key == "bali":
        prefix = rng.choice(rng.choice(BALI_ORDER)[0 if male else 1])
        given = rng.choice(BALI_CHILD[0 if male else 1] if child else group.male if male else group.female)
        return f"{prefix} {given}"
    if group_key == "batak":
        if religion == "islam":
            first = rng.choice(CHILD_MALE if child and male else CHILD_FEMALE if child else
                               MUSLIM_MALE if male else MUSLIM_FEMALE)
            return f"{first} {rng.choice(MANDAILING)}"
        if child:
            first = rng.choice(BATAK_CHILD[0 if male else 1])
        elif elder and (group.elder_male if male else group.elder_female):
            first = rng.choice(group.elder_male if male else group.elder_female)
        else:
            first = rng.choice(group.male if male else group.female)
        boru = "" if male or rng.random() < 0.6 else "br. "  # a woman's own clan, as "boru"
        return f"{first} {boru}{rng.choice(group.male_second)}"
    if group_key == "tionghoa":
        if elder:
            return rng.choice(group.elder_male if male else group.elder_female)
        first = rng.choice(TIONGHOA_CHILD[0 if male else 1] if child else
                           group.male if male else group.female)
        return f"{first} {rng.choice(group.male_second)}"

    # Javanese, Sundanese, Minang, Bugis
    if child:
        first = rng.choice(CHILD_MALE if male else CHILD_FEMALE)
        second = rng.choice(CHILD_MALE_SECOND if male else CHILD_FEMALE_SECOND)
        name = f"{first} {second}"
    elif elder and (group.elder_male if male else group.elder_female):
        name = rng.choice(group.elder_male if male else group.elder_female)
    else:
        first = rng.choice(group.male if male else group.female)
        seconds = group.male_second if male else group.female_second
        wants_second = rng.random() < (0.5 if group_key == "minang" else 0.85)
        name = f"{first} {rng.choice(seconds)}" if seconds and wants_second else first
        if name == first and first in ("Muh.", "Abdul", "Muhammad", "Sitti", "Siti", "Sri"):
            name = f"{first} {rng.choice(seconds or MUSLIM_FEMALE)}"
    untitled = not name.startswith(("La ", "I ", "Indo", "Puang", "Hj."))
    if group_key == "bugis" and untitled and rng.random() < 0.2:
        name = f"Andi {name}"  # the Bugis nobility title, passed to children
    return name


def _phone(rng: random.Random) -> str:
    prefix = rng.choice(PHONE_PREFIXES)
    digits = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice((7, 8, 8))))
    style = rng.random()
    if style < 0.5:
        return prefix + digits
    if style < 0.85:
        return f"{prefix}-{digits[:4]}-{digits[4:]}"
    return f"{prefix} {digits[:4]} {digits[4:]}"


def _address(rng: random.Random, place: Place) -> str:
    number = rng.randint(1, 120)
    style = rng.random()
    if style < 0.6:
        street = f"Jl. {rng.choice(STREETS)} No. {number}"
    elif style < 0.85:
        street = f"Gg. {rng.choice(STREETS)} {rng.choice(ROMAN)} No. {number}"
    else:
        street = f"Perum {rng.choice(ESTATES)} Blok {rng.choice('ABCDEFG')}{rng.randint(1, 12)} No. {number}"
    local = (f"RT {rng.randint(1, 12):02d}/RW {rng.randint(1, 9):02d}" if place.rt_rw
             else f"Br. {rng.choice(BANJAR)}")
    return (f"{street}, {local}, {place.village_kind} {rng.choice(place.villages)}, "
            f"Kec. {place.district_name}, {place.regency_name}")


def _occupation(rng: random.Random, group_key: str, sex: str, age: float) -> str:
    if age < 6:
        return "Belum bekerja"
    if age < 19:
        return "Pelajar"
    if age < 24 and rng.random() < 0.5:
        return "Mahasiswa"
    if age >= 60:
        options = [("Pensiunan", 3), ("Tidak bekerja", 3), ("Petani", 2), ("Pedagang", 2)]
        if sex == "female":
            options.append(("Mengurus rumah tangga", 4))
        return _weighted(rng, options)
    common = [("Wiraswasta", 4), ("Karyawan swasta", 5), ("Pedagang", 3), ("Guru", 2), ("PNS", 2),
              ("Buruh harian lepas", 3)]
    if sex == "female":
        common += [("Mengurus rumah tangga", 10), ("Buruh pabrik", 2), ("Penjahit", 1), ("Bidan", 1)]
    else:
        common += [("Petani", 3), ("Sopir", 2), ("Tukang bangunan", 2), ("Pengemudi ojek online", 2)]
    if group_key == "bugis":
        common += [("Nelayan danau", 3), ("Penenun sutra", 2)] if sex == "male" else [("Penenun sutra", 4)]
    if group_key == "bali":
        common.append(("Pengrajin", 3) if sex == "male" else ("Pedagang canang", 3))
    return _weighted(rng, common)


def _education(rng: random.Random, age: float) -> str:
    if age < 7:
        return "none"
    if age < 13:
        return "primary"
    if age < 16:
        return "junior"
    if age < 23:
        return "senior"
    if age < 60:
        return _weighted(rng, (("primary", 14), ("junior", 17), ("senior", 40), ("diploma", 9),
                               ("bachelor", 16), ("master", 3), ("none", 1)))
    return _weighted(rng, (("none", 14), ("primary", 44), ("junior", 15), ("senior", 16), ("diploma", 3),
                           ("bachelor", 7), ("master", 1)))


def _marital(rng: random.Random, age: float) -> str:
    if age < 18:
        return "single"
    if age < 25:
        return _weighted(rng, (("single", 70), ("married", 30)))
    if age < 60:
        return _weighted(rng, (("married", 82), ("single", 8), ("divorced", 6), ("widowed", 4)))
    return _weighted(rng, (("married", 52), ("widowed", 43), ("divorced", 5)))


# ---------------------------------------------------------------------------------------------------------
# Clinical content: common puskesmas diagnoses (ICD-10 as WHO 2019, which the app validates against).


@dataclass(frozen=True)
class Condition:
    code: str
    ages: tuple[float, float]
    weight: int
    complaints: tuple[str, ...]
    histories: tuple[str, ...]
    exams: tuple[str, ...]
    assessments: tuple[str, ...]
    plans: tuple[str, ...]
    adult_rx: tuple[Rx, ...]
    child_rx: tuple[Rx, ...] = ()  # 2-11 years
    infant_rx: tuple[Rx, ...] = ()  # under 2 years
    fever: float = 0.0  # chance of a raised temperature


PCM = ("Paracetamol 500 mg tab", "1 tab", "3x sehari bila demam/nyeri", "oral", "3 hari")
PCM_SYRUP = ("Paracetamol sirup 120 mg/5 ml", "5 ml (1 sendok takar)", "3x sehari bila demam", "oral",
             "3 hari")
PCM_DROPS = ("Paracetamol drop 100 mg/ml", "{pcm_drop}", "3x sehari bila demam", "oral", "3 hari")
ORALIT = ("Oralit 200 ml", "1 sachet dilarutkan dalam 200 ml air", "setiap kali BAB cair", "oral",
          "sampai diare berhenti")
ORALIT_CHILD = ("Oralit 200 ml", "{oralit_dose}", "setiap kali BAB cair", "oral", "sampai diare berhenti")
ZINC = ("Zinc 20 mg tab dispersibel", "{zinc_dose}", "1x sehari", "oral", "10 hari")
VIT_C = ("Vitamin C 50 mg tab", "1 tab", "1x sehari", "oral", "5 hari")
VIT_B = ("Vitamin B kompleks tab", "1 tab", "1x sehari", "oral", "10 hari")
ANTACID = ("Antasida doen tab", "1 tab dikunyah", "3x sehari sebelum makan", "oral", "5 hari")
OMEPRAZOLE = ("Omeprazol 20 mg kaps", "1 kaps", "1x sehari sebelum makan pagi", "oral", "7 hari")
DOMPERIDONE = ("Domperidon 10 mg tab", "1 tab", "3x sehari sebelum makan", "oral", "3 hari")
CTM = ("CTM 4 mg tab", "1 tab", "3x sehari", "oral", "3 hari")
AMLODIPINE = ("Amlodipin 5 mg tab", "1 tab", "1x sehari (pagi)", "oral", "30 hari")
HCT = ("Hidroklorotiazid 25 mg tab", "1/2 tab", "1x sehari (pagi)", "oral", "30 hari")
METFORMIN = ("Metformin 500 mg tab", "1 tab", "3x sehari sesudah makan", "oral", "30 hari")
GLIBENCLAMIDE = ("Glibenklamid 5 mg tab", "1 tab", "1x sehari sebelum makan pagi", "oral", "30 hari")

ACUTE: tuple[Condition, ...] = (
    Condition(
        "J06.9", (0, 100), 16,
        ("Batuk pilek sejak {d} hari", "Pilek, hidung tersumbat dan bersin-bersin sejak {d} hari",
         "Batuk berdahak dan badan meriang sejak {d} hari"),
        ("{demam}, batuk berdahak putih, tidak sesak napas. Riwayat alergi obat disangkal.",
         "Keluhan diawali bersin dan hidung berair, nafsu makan sedikit menurun. Anggota keluarga di rumah "
         "ada yang batuk pilek.",
         "Tidak ada sesak, tidak ada nyeri dada. Belum minum obat apa pun."),
        ("KU baik, kesadaran CM. Konka hiperemis, sekret hidung serous. Faring tidak hiperemis. Paru: "
         "vesikuler, ronki -/-, wheezing -/-.",
         "Faring sedikit hiperemis, tonsil T1-T1 tenang. Paru vesikuler kanan kiri, tidak ada retraksi "
         "dinding dada."),
        ("ISPA (common cold), tanpa tanda pneumonia.", "ISPA non-pneumonia."),
        ("Istirahat cukup, perbanyak minum air hangat, etika batuk. Kontrol bila demam lebih dari 3 hari "
         "atau sesak napas.",
         "Terapi simtomatik. Edukasi tanda bahaya: napas cepat, sesak, tidak mau minum."),
        (PCM, CTM, ("Gliseril guaiakolat 100 mg tab", "1 tab", "3x sehari", "oral", "3 hari"), VIT_C),
        (PCM_SYRUP, ("Ambroxol sirup 15 mg/5 ml", "2,5 ml", "3x sehari", "oral", "3 hari")),
        (PCM_DROPS,),
        fever=0.4,
    ),
    Condition(
        "J02.9", (3, 75), 8,
        ("Nyeri menelan dan demam sejak {d} hari", "Tenggorokan sakit dan terasa kering sejak {d} hari"),
        ("{demam}, batuk kering sesekali, tidak pilek. Makan dan minum berkurang karena nyeri menelan.",
         "Sebelumnya sering minum es dan makan gorengan. Tidak ada sesak."),
        ("Faring hiperemis, tonsil T1-T1 hiperemis, tidak ada detritus. KGB submandibula teraba kecil, nyeri "
         "tekan (+).",
         "Faring hiperemis dengan granula, tonsil T1-T1. Paru dalam batas normal."),
        ("Faringitis akut.", "Faringitis akut, suspek bakterial."),
        ("Antibiotik diminum sampai habis. Kumur air garam hangat, hindari minuman dingin dan gorengan.",
         "Kontrol 5 hari bila keluhan belum membaik."),
        (("Amoksisilin 500 mg kaps", "1 kaps", "3x sehari", "oral", "5 hari"), PCM, VIT_C),
        (("Amoksisilin sirup 250 mg/5 ml", "5 ml", "3x sehari", "oral", "5 hari"), PCM_SYRUP),
        fever=0.7,
    ),
    Condition(
        "A09", (0, 100), 10,
        ("BAB cair {n} kali sejak kemarin", "Mencret sejak {d} hari disertai perut mulas"),
        ("BAB cair tanpa lendir dan darah, mual (+), muntah 1 kali. {demam}. Masih mau minum. Sebelumnya "
         "makan di warung dekat rumah.",
         "Ampas sedikit, tidak ada darah. BAK masih lancar."),
        ("KU baik, CM. Mata tidak cekung, turgor kulit kembali cepat, mukosa bibir lembap. Abdomen: bising "
         "usus meningkat, nyeri tekan ringan.",
         "Tidak ada tanda dehidrasi. Abdomen supel, bising usus meningkat."),
        ("Diare akut tanpa dehidrasi.", "Gastroenteritis akut, tanpa dehidrasi."),
        ("Oralit setiap kali BAB cair, tetap makan, cuci tangan pakai sabun. Segera kembali bila BAB "
         "berdarah, muntah terus, atau lemas.",
         "Edukasi rehidrasi oral dan tanda dehidrasi. Kontrol 3 hari bila belum membaik."),
        (ORALIT, ("Attapulgit 600 mg tab", "2 tab", "setiap habis BAB cair, maks. 6x sehari", "oral",
                  "2 hari"), DOMPERIDONE),
        (ORALIT_CHILD, ZINC),
        (ORALIT_CHILD, ZINC),
        fever=0.3,
    ),
    Condition(
        "R50.9", (0, 60), 6,
        ("Demam sejak {d} hari", "Badan panas sejak kemarin malam"),
        ("Demam terus-menerus, turun dengan obat penurun panas lalu naik lagi. Tidak ada batuk, pilek, "
         "diare, atau nyeri BAK. Tidak ada bintik merah di kulit.",
         "Nafsu makan menurun, masih mau minum. Tidak kejang."),
        ("KU tampak lemas, CM. Faring tenang, paru bersih, abdomen supel, tidak ada ptekie. Rumple leede "
         "(-).",
         "Tidak ditemukan fokus infeksi. Akral hangat, CRT < 2 detik."),
        ("Observasi febris hari ke-{d}, fokus infeksi belum jelas.", "Demam tanpa fokus infeksi yang jelas."),
        ("Kompres hangat, minum banyak. Cek darah rutin bila demam lebih dari 3 hari. Waspada tanda bahaya "
         "DBD.",
         "Kontrol 2 hari lagi atau segera bila muncul bintik merah, muntah, atau nyeri perut."),
        (PCM, VIT_B),
        (PCM_SYRUP,),
        (PCM_DROPS,),
        fever=1.0,
    ),
    Condition(
        "A01.0", (18, 60), 4,
        ("Demam sejak {d} hari, terutama sore dan malam hari",
         "Demam naik turun sejak 1 minggu disertai mual"),
        ("Demam meningkat perlahan, terutama malam hari. Mual, nafsu makan turun, sulit BAB. Sering jajan di "
         "luar rumah.",
         "Nyeri kepala dan badan pegal, lidah terasa pahit."),
        ("KU tampak sakit sedang, CM. Lidah kotor (coated tongue), tepi hiperemis. Abdomen: nyeri tekan "
         "epigastrium, hepar dan lien tidak teraba.",
         "Lidah kotor, nyeri tekan perut kanan bawah ringan. Tes Tubex skor 6."),
        ("Demam tifoid.", "Demam tifoid (Tubex positif), tanpa komplikasi."),
        ("Tirah baring, makan lunak rendah serat. Antibiotik diminum sampai habis. Kontrol 3 hari; rujuk "
         "bila demam tinggi menetap atau nyeri perut hebat.",
         "Edukasi kebersihan makanan dan cuci tangan pakai sabun."),
        (("Kloramfenikol 250 mg kaps", "2 kaps", "4x sehari", "oral", "10 hari"), PCM, ANTACID),
        fever=1.0,
    ),
    Condition(
        "A97.0", (5, 50), 3,  # dengue; WHO ICD-10 2019 retired A90 for A97.-
        ("Demam tinggi mendadak sejak {d} hari",
         "Demam tinggi, nyeri kepala dan nyeri di belakang mata sejak {d} hari"),
        ("Demam tinggi mendadak, nyeri otot dan sendi, mual. Tidak ada perdarahan gusi atau mimisan. "
         "Tetangga ada yang dirawat karena DBD.",
         "Muncul bintik merah di lengan sejak pagi. Masih bisa makan dan minum."),
        ("KU tampak lemas, CM. Ptekie di lengan bawah, uji tourniquet (+). Akral hangat, CRT < 2 detik. "
         "Hepar tidak teraba.",
         "Wajah kemerahan, ptekie (+). Tidak ada tanda kebocoran plasma."),
        ("Dengue tanpa tanda bahaya, hari ke-{d}. Trombosit 110.000/uL, hematokrit 40%.",
         "Dengue tanpa warning sign. Trombosit 130.000/uL."),
        ("Minum 2-2,5 liter sehari (air, jus, oralit). Cek darah rutin ulang besok. Segera ke IGD bila nyeri "
         "perut, muntah terus, perdarahan, atau lemas/gelisah.",
         "Rawat jalan dengan pemantauan harian. PSN 3M plus di rumah."),
        (PCM, ("Oralit 200 ml", "1 sachet dilarutkan dalam 200 ml air", "3x sehari", "oral", "5 hari")),
        (PCM_SYRUP, ("Oralit 200 ml", "100 ml (1/2 gelas)", "3x sehari", "oral", "5 hari")),
        fever=1.0,
    ),
    Condition(
        "K30", (15, 100), 8,
        ("Nyeri ulu hati dan perut kembung sejak {d} hari",
         "Perut terasa penuh, mual dan sering sendawa sejak {d} hari"),
        ("Keluhan muncul bila terlambat makan. Tidak ada muntah darah atau BAB hitam. Berat badan tidak "
         "turun.",
         "Sering minum kopi, pola makan tidak teratur karena bekerja."),
        ("KU baik, CM. Abdomen supel, nyeri tekan epigastrium (+), hepar dan lien tidak teraba, bising usus "
         "normal.",
         "Nyeri tekan epigastrium ringan, tidak ada defans muskular."),
        ("Dispepsia fungsional, tanpa tanda alarm.", "Sindrom dispepsia."),
        ("Makan teratur porsi kecil, kurangi kopi, makanan pedas dan asam. Kontrol 1 minggu bila belum "
         "membaik.",
         "Edukasi tanda alarm: muntah darah, BAB hitam, berat badan turun."),
        (ANTACID, OMEPRAZOLE, DOMPERIDONE),
    ),
    Condition(
        "K29.7", (15, 100), 7,
        ("Perih di ulu hati sejak {d} hari", "Nyeri perut atas seperti terbakar dan mual sejak {d} hari"),
        ("Nyeri memberat saat lapar, membaik setelah makan. Sering minum obat pegal linu yang dibeli di "
         "warung.",
         "Makan tidak teratur. Tidak ada muntah darah, BAB warna biasa."),
        ("KU baik, CM. Nyeri tekan epigastrium (+), tidak ada defans muskular. Bising usus normal.",
         "Abdomen supel, nyeri tekan epigastrium, hepar/lien tidak teraba."),
        ("Gastritis akut.", "Gastritis, kemungkinan terkait obat antinyeri."),
        ("Hentikan obat antinyeri tanpa resep. Makan teratur, hindari makanan pedas, asam dan kopi.",
         "Kontrol 1 minggu; segera kembali bila muntah darah atau BAB hitam."),
        (OMEPRAZOLE, ANTACID, ("Sukralfat sirup 500 mg/5 ml", "10 ml", "3x sehari sebelum makan", "oral",
                               "7 hari")),
    ),
    Condition(
        "M79.1", (18, 100), 7,
        ("Pegal-pegal di punggung dan bahu sejak {d} hari", "Nyeri otot betis dan paha sejak {d} hari"),
        ("Keluhan setelah mengangkat barang berat. Tidak ada demam, tidak kesemutan, tidak ada kelemahan "
         "anggota gerak.",
         "Pekerjaan sehari-hari banyak membungkuk dan mengangkat beban."),
        ("KU baik, CM. Nyeri tekan otot trapezius dan paravertebral, tidak ada bengkak atau kemerahan. "
         "Kekuatan motorik 5/5.",
         "Nyeri tekan pada otot gastroknemius, tidak ada tanda radang. Refleks fisiologis normal."),
        ("Mialgia.", "Mialgia akibat kelelahan otot."),
        ("Istirahat, kompres hangat, peregangan ringan. Hindari mengangkat beban berat.",
         "Kontrol bila nyeri tidak membaik dalam 1 minggu."),
        (("Ibuprofen 400 mg tab", "1 tab", "3x sehari sesudah makan", "oral", "3 hari"), PCM, VIT_B),
    ),
    Condition(
        "M54.5", (25, 100), 4,
        ("Nyeri pinggang bawah sejak {d} hari",),
        ("Nyeri setelah mengangkat karung beras. Tidak menjalar ke tungkai, BAK dan BAB normal.",
         "Nyeri memberat bila duduk lama, membaik dengan berbaring."),
        ("Nyeri tekan paravertebral lumbal, spasme otot (+). Laseque (-), kekuatan tungkai 5/5.",),
        ("Low back pain mekanik, tanpa tanda bahaya.",),
        ("Kompres hangat, hindari mengangkat beban berat, latihan peregangan punggung. Kontrol 1 minggu.",),
        (("Natrium diklofenak 50 mg tab", "1 tab", "2x sehari sesudah makan", "oral", "5 hari"), VIT_B),
    ),
    Condition(
        "L30.9", (0, 100), 6,
        ("Gatal dan kemerahan di kulit lengan sejak {d} hari", "Ruam gatal di leher dan lipatan siku sejak "
         "{d} hari"),
        ("Gatal terutama malam hari. Belum pernah berobat. Tidak ada anggota keluarga dengan keluhan serupa.",
         "Keluhan muncul setelah memakai sabun cuci baru."),
        ("Status dermatologis: regio antebrachii tampak makula eritema berbatas tidak tegas dengan papul dan "
         "skuama halus, ekskoriasi (+).",
         "Regio colli dan fossa cubiti: plak eritema dengan skuama, likenifikasi ringan."),
        ("Dermatitis.", "Dermatitis kontak iritan, diagnosis banding dermatitis atopik."),
        ("Hindari menggaruk dan bahan pemicu, gunakan sabun lembut. Kontrol 1 minggu.",
         "Jaga kulit tetap lembap; kembali bila muncul nanah atau demam."),
        (("Hidrokortison krim 2,5%", "oles tipis", "2x sehari", "topical", "7 hari"),
         ("Cetirizin 10 mg tab", "1 tab", "1x sehari (malam)", "oral", "7 hari"), CTM),
        (("Hidrokortison krim 1%", "oles tipis", "2x sehari", "topical", "5 hari"),
         ("Cetirizin sirup 5 mg/5 ml", "2,5 ml", "1x sehari (malam)", "oral", "5 hari")),
        (("Hidrokortison krim 1%", "oles tipis", "2x sehari", "topical", "5 hari"),),
    ),
    Condition(
        "H10.9", (2, 90), 3,
        ("Mata merah dan berair sejak {d} hari", "Mata kanan merah, gatal dan banyak kotoran mata sejak {d} "
         "hari"),
        ("Bangun pagi kelopak mata lengket. Penglihatan tidak kabur, tidak silau. Ada teman yang sakit mata.",
         "Tidak ada riwayat trauma atau kelilipan."),
        ("Visus ODS 6/6. Konjungtiva bulbi dan palpebra hiperemis, sekret mukopurulen (+). Kornea jernih.",),
        ("Konjungtivitis akut, suspek bakterial.",),
        ("Jangan mengucek mata, cuci tangan, jangan berbagi handuk. Kontrol 5 hari atau segera bila "
         "penglihatan kabur.",),
        (("Kloramfenikol tetes mata 0,5%", "1 tetes", "4x sehari", "eye", "5 hari"),),
        (("Kloramfenikol tetes mata 0,5%", "1 tetes", "4x sehari", "eye", "5 hari"),),
    ),
)

HYPERTENSION = Condition(
    "I10", (35, 100), 0,
    ("Kontrol rutin tekanan darah", "Pusing dan tengkuk terasa berat sejak {d} hari",
     "Kontrol hipertensi, obat habis"),
    ("Hipertensi sejak {y} tahun, minum amlodipin 5 mg setiap pagi. Kadang lupa minum obat. Tidak ada nyeri "
     "dada atau sesak.",
     "Riwayat hipertensi {y} tahun, rutin ikut Prolanis. Masih suka makanan asin."),
    ("KU baik, CM. TD {sys}/{dia} mmHg. Jantung: S1 S2 reguler, murmur (-), gallop (-). Paru bersih. Edema "
     "tungkai (-).",
     "TD {sys}/{dia} mmHg, nadi {pulse}x/menit reguler. Tidak ada edema."),
    (), (), (AMLODIPINE, HCT),
)
DIABETES = Condition(
    "E11.9", (35, 100), 0,
    ("Kontrol gula darah", "Kontrol DM, obat habis", "Sering haus dan sering BAK malam hari"),
    ("DM tipe 2 sejak {y} tahun, minum metformin 3x500 mg. Kadang kesemutan di kaki.",
     "Riwayat DM {y} tahun, ikut Prolanis. Masih sering minum teh manis."),
    ("KU baik, CM. GDS {gds} mg/dL. Kaki: tidak ada luka, sensibilitas monofilamen baik, pulsasi a. "
     "dorsalis pedis teraba.",
     "GDS {gds} mg/dL. Tidak ada luka di kaki."),
    (), (), (METFORMIN, GLIBENCLAMIDE),
)
NEWBORN_CHECK = Condition(
    "Z00.1", (0, 1), 0,
    ("Kunjungan neonatal, bayi usia {age_days} hari",),
    ("Lahir spontan di bidan, cukup bulan, BBL {bbl} g, langsung menangis. Menyusu kuat, ASI saja. BAK dan "
     "BAB lancar. Sudah mendapat vitamin K dan imunisasi hepatitis B0.",),
    ("Bayi aktif, menangis kuat, tidak kuning, tidak sianosis. Tali pusat kering, tidak ada tanda infeksi. "
     "Refleks hisap baik.",),
    ("Neonatus cukup bulan, sesuai masa kehamilan, kondisi baik.",),
    ("ASI eksklusif, jaga kehangatan bayi, perawatan tali pusat kering dan bersih. Imunisasi BCG dan polio 1 "
     "pada usia 1 bulan. Kembali bila bayi demam, kuning, malas menyusu, atau sesak.",),
    (),
)
CHRONIC = {"I10": HYPERTENSION, "E11.9": DIABETES}
# Every diagnosis the demo writes; the tests check each against the ICD-10 list.
DIAGNOSIS_CODES = tuple(c.code for c in (*ACUTE, HYPERTENSION, DIABETES, NEWBORN_CHECK))


# ---------------------------------------------------------------------------------------------------------
# Generation.


@dataclass
class Person:
    fields: dict[str, list[str]]
    name: str
    sex: str
    age: float  # years
    group: str
    place: Place
    nik: str
    chronic: list[str]
    weight: float
    height: float
    visits: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)  # (author, fields)


def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _age(birth: dt.date, today: dt.date) -> float:
    return (today - birth).days / 365.25


def _birth_date(rng: random.Random, today: dt.date) -> dt.date:
    band = _weighted(rng, (((0.1, 5), 12), ((5, 18), 14), ((18, 45), 30), ((45, 60), 20), ((60, 86), 24)))
    days = rng.randint(int(band[0] * 365.25), int(band[1] * 365.25))
    return max(today - dt.timedelta(days=days), OLDEST)


def _nik(rng: random.Random, place: Place, birth: dt.date, sex: str, used: set[str]) -> str:
    while True:
        nik = make_nik(place.province, place.regency, place.district, birth, sex, rng.randint(1, 9999))
        if nik not in used:
            used.add(nik)
            return nik


def _bpjs(rng: random.Random) -> str:
    # 13 digits; cards commonly start with zeros (stored as text). The structure is not public.
    return f"000{rng.randint(1, 10**10 - 1):010d}"


def _body(rng: random.Random, age: float, sex: str, chronic: list[str]) -> tuple[float, float]:
    if age < 1:
        months = age * 12
        return 3.3 + 0.6 * months + rng.uniform(-0.3, 0.3), 50 + 2.1 * months + rng.uniform(-1, 1)
    if age < 13:
        return (2 * age + 8) * rng.uniform(0.88, 1.15), (6 * age + 77) * rng.uniform(0.96, 1.04)
    if age < 18:
        base_h = 150 + 2.5 * (age - 13) + (4 if sex == "male" else 0)
        return (40 + 3 * (age - 13)) * rng.uniform(0.85, 1.2), base_h + rng.uniform(-5, 5)
    heavier = 6 if chronic else 0
    if sex == "male":
        height = rng.uniform(156, 176) - (3 if age >= 65 else 0)
        return rng.uniform(50, 80) + heavier, height
    height = rng.uniform(146, 162) - (3 if age >= 65 else 0)
    return rng.uniform(42, 70) + heavier, height


def _person(rng: random.Random, today: dt.date, used_niks: set[str], used_names: set[str]) -> Person:
    group_key = _weighted(rng, GROUP_WEIGHTS)
    group = GROUPS[group_key]
    place = rng.choice(group.places)
    sex = rng.choice(("male", "female"))
    birth = _birth_date(rng, today)
    age = _age(birth, today)
    religion = _weighted(rng, group.religions)
    name = _name(rng, group_key, sex, age, religion)
    for _ in range(10):  # namesakes exist, but a demo reads better without them
        if name not in used_names:
            break
        name = _name(rng, group_key, sex, age, religion)
    used_names.add(name)
    # Children under 5 often have no KIA (child ID card) yet; some adults forgot theirs.
    has_nik = rng.random() > (0.4 if age < 5 else 0.07)
    nik = _nik(rng, place, birth, sex, used_niks) if has_nik else ""
    chronic = []
    if age >= 40 and rng.random() < 0.35 + (0.15 if age >= 60 else 0):
        chronic.append("I10")
    if age >= 40 and rng.random() < 0.15:
        chronic.append("E11.9")
    weight, height = _body(rng, age, sex, chronic)
    occupation = _occupation(rng, group_key, sex, age)
    education = "senior" if occupation == "Mahasiswa" else _education(rng, age)
    phone = _phone(rng) if age >= 13 or rng.random() < 0.9 else ""  # a child's number is a parent's
    if age >= 70 and rng.random() < 0.4:
        phone = ""
    fields = {
        "id": [_new_id(rng)], "name": [name], "sex": [sex], "birth_date": [birth.isoformat()], "nik": [nik],
        "bpjs_number": [_bpjs(rng) if rng.random() < 0.6 else ""], "phone": [phone],
        "address": [_address(rng, place)], "religion": [religion],
        "occupation": [occupation], "education": [education],
        "marital_status": [_marital(rng, age)], "mother_nik": [""],
    }
    return Person(fields, name, sex, age, group_key, place, nik, chronic, weight, height)


def _newborn(rng: random.Random, today: dt.date, people: list[Person], used_niks: set[str]) -> Person:
    """A baby of a few days, without a NIK yet: identified by the mother's NIK (SATUSEHAT nik-ibu)."""
    mothers = [p for p in people if p.sex == "female" and 18 <= p.age <= 40 and p.nik]
    birth = today - dt.timedelta(days=rng.randint(3, 25))
    sex = rng.choice(("male", "female"))
    if mothers:
        mother = rng.choice(mothers)
        mother_name, mother_nik, place = mother.name, mother.nik, mother.place
        address, phone = mother.fields["address"][0], mother.fields["phone"][0]
        religion = mother.fields["religion"][0]
        group_key = mother.group
    else:  # too few patients for a mother among them: she is not a patient here
        group_key = _weighted(rng, GROUP_WEIGHTS)
        place = rng.choice(GROUPS[group_key].places)
        mother_age_days = rng.randint(20 * 365, 38 * 365)
        religion = _weighted(rng, GROUPS[group_key].religions)
        mother_name = _name(rng, group_key, "female", 30, religion)
        mother_nik = _nik(rng, place, today - dt.timedelta(days=mother_age_days), "female", used_niks)
        address, phone = _address(rng, place), _phone(rng)
    # Until the family registers a name, the record carries "By. Ny." (baby of Mrs.) and the mother's name.
    name = f"By. Ny. {mother_name}"
    fields = {
        "id": [_new_id(rng)], "name": [name], "sex": [sex], "birth_date": [birth.isoformat()], "nik": [""],
        "bpjs_number": [""], "phone": [phone], "address": [address], "religion": [religion],
        "occupation": [""], "education": [""], "marital_status": ["single"], "mother_nik": [mother_nik],
    }
    age = _age(birth, today)
    return Person(fields, name, sex, age, group_key, place, "", [], 3.0 + rng.uniform(0, 0.6),
                  48 + rng.uniform(0, 4))


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _vitals(rng: random.Random, person: Person, fever: bool, hypertensive_control: bool) -> dict[str, str]:
    age = person.age
    vitals: dict[str, str] = {}
    if age >= 13:
        if "I10" in person.chronic:
            controlled = rng.random() < (0.45 if hypertensive_control else 0.3)
            if controlled:
                systolic, diastolic = rng.randint(122, 138), rng.randint(76, 88)
            else:
                systolic = rng.choice((145, 150, 150, 155, 160, 165, 170, 178))
                diastolic = rng.choice((90, 95, 95, 100, 105))
        elif age >= 18:
            systolic, diastolic = rng.randint(106, 136), rng.randint(66, 86)
        else:
            systolic, diastolic = rng.randint(98, 120), rng.randint(60, 78)
        vitals["systolic"], vitals["diastolic"] = str(systolic), str(diastolic)
    if age < 1:
        pulse, resp = rng.randint(120, 150), rng.randint(36, 50)
    elif age < 6:
        pulse, resp = rng.randint(90, 125), rng.randint(24, 32)
    elif age < 13:
        pulse, resp = rng.randint(78, 110), rng.randint(18, 26)
    else:
        pulse, resp = rng.randint(64, 94), rng.randint(14, 20)
    temperature = rng.uniform(36.2, 37.2)
    if fever:
        temperature = rng.uniform(37.8, 39.6)
        pulse += rng.randint(8, 18)
    vitals.update(pulse=str(pulse), resp_rate=str(resp), temperature=_fmt(temperature, 1))
    if age >= 2:
        vitals["weight"] = _fmt(person.weight + rng.uniform(-1.2, 1.2) * (age >= 18), 1)
    else:
        vitals["weight"] = _fmt(person.weight, 2)
    vitals["height"] = _fmt(person.height, 0 if age >= 18 else 1)
    if age >= 18 and (person.chronic or rng.random() < 0.5):
        waist = 0.9 * person.weight + (25 if person.sex == "male" else 28) + rng.uniform(-4, 4)
        vitals["waist"] = _fmt(waist, 0)
    vitals["consciousness"] = "compos_mentis"
    return vitals


def _lines(rng: random.Random, rx: Sequence[Rx], limit: int = 3) -> list[Rx]:
    if not rx:
        return []
    extra = rng.randint(0, min(limit - 1, len(rx) - 1))
    return [rx[0], *rng.sample(list(rx[1:]), extra)]


def _visit(rng: random.Random, person: Person, index: int) -> dict[str, list[str]]:
    age = person.age
    diagnoses: list[str]
    rx: list[Rx]
    context: dict[str, Any] = {"d": rng.randint(1, 4), "n": rng.randint(4, 8), "y": rng.randint(1, 12),
                               "gds": rng.randint(110, 290), "age_days": int(age * 365.25),
                               "bbl": rng.randrange(2700, 3700, 50)}
    control = bool(person.chronic) and rng.random() < 0.6
    if person.fields["mother_nik"][0] and index == 0:
        condition, fever = NEWBORN_CHECK, False
    elif control:
        condition, fever = CHRONIC[person.chronic[0]], False
    else:
        candidates = [c for c in ACUTE if c.ages[0] <= age <= c.ages[1]]
        condition = rng.choices(candidates, weights=[c.weight for c in candidates])[0]
        fever = rng.random() < condition.fever
        if condition.code == "A01.0":
            context["d"] = rng.randint(5, 8)
        elif condition.code == "A97.0":
            context["d"] = rng.randint(3, 4)
    vitals = _vitals(rng, person, fever, control)
    context["demam"] = (rng.choice(("Demam ringan naik turun", "Demam sejak kemarin", "Badan terasa panas"))
                        if fever else "Tidak demam")
    context.update(sys=vitals.get("systolic", "-"), dia=vitals.get("diastolic", "-"), pulse=vitals["pulse"])
    context.update(pcm_drop="0,6 ml" if age < 1 else "1 ml",
                   zinc_dose="1/2 tab (10 mg)" if age < 0.5 else "1 tab (20 mg)",
                   oralit_dose="50-100 ml" if age < 1 else "100-200 ml")

    if condition.code in CHRONIC:
        diagnoses = list(person.chronic)  # a control visit: every chronic illness, the first as primary
        assessment, plan, rx = _chronic_notes(rng, person, vitals, context)
    else:
        diagnoses = [condition.code]
        if person.chronic and rng.random() < 0.6:
            diagnoses += person.chronic  # known chronic illnesses as secondary diagnoses
        band_rx = ((condition.infant_rx if age < 2 else condition.child_rx if age < 12 else ())
                   or condition.adult_rx)
        rx = _lines(rng, band_rx)
        assessment = rng.choice(condition.assessments).format_map(context) if condition.assessments else ""
        plan = rng.choice(condition.plans).format_map(context) if condition.plans else ""

    fields: dict[str, list[str]] = {
        "id": [_new_id(rng)],
        "complaint": [rng.choice(condition.complaints).format_map(context)],
        "history": [rng.choice(condition.histories).format_map(context)],
        "examination": [rng.choice(condition.exams).format_map(context)],
        "assessment": [assessment],
        "plan": [plan],
        "diagnosis": diagnoses,
        "prescription": [""],
    }
    fields.update({name: [value] for name, value in vitals.items()})
    if condition.code == "J06.9" and 2 <= age < 6 and rng.random() < 0.4:
        # Compounded powders (racikan) are everyday paediatric practice in puskesmas.
        rx = []
        fields["prescription"] = ["R/ Racikan puyer: Paracetamol 120 mg, Ambroxol 7,5 mg, m.f. pulv. dtd "
                                  "No. IX, S 3 dd pulv I (3x sehari 1 bungkus)"]
    for column, position in (("drug", 0), ("dose", 1), ("frequency", 2), ("route", 3), ("duration", 4)):
        fields[f"rx_{column}"] = [line[position].format_map(context) for line in rx]
    return fields


def _chronic_notes(rng: random.Random, person: Person, vitals: dict[str, str],
                   context: dict[str, Any]) -> tuple[str, str, list[Rx]]:
    assessments, plans, rx = [], [], []
    if "I10" in person.chronic:
        systolic, diastolic = int(vitals["systolic"]), int(vitals["diastolic"])
        if systolic >= 140 or diastolic >= 90:
            stage = 2 if systolic >= 160 or diastolic >= 100 else 1
            assessments.append(f"Hipertensi stage {stage}, belum terkontrol "
                               f"(TD {systolic}/{diastolic} mmHg).")
            plans.append("Kepatuhan minum obat ditekankan; diet rendah garam (maks. 1 sendok teh sehari), "
                         "olahraga jalan kaki 30 menit sehari.")
            rx += [AMLODIPINE, HCT] if rng.random() < 0.5 else [AMLODIPINE]
        else:
            assessments.append(f"Hipertensi terkontrol (TD {systolic}/{diastolic} mmHg).")
            plans.append("Lanjut amlodipin 5 mg 1x sehari. Pertahankan diet rendah garam dan aktivitas "
                         "fisik.")
            rx.append(AMLODIPINE)
    if "E11.9" in person.chronic:
        gds = context["gds"]
        if gds >= 200:
            assessments.append(f"DM tipe 2 belum terkontrol (GDS {gds} mg/dL).")
            plans.append("Diet 3J (jumlah, jadwal, jenis), kurangi minuman manis. Cek HbA1c bila tersedia.")
            rx += [METFORMIN, GLIBENCLAMIDE]
        else:
            assessments.append(f"DM tipe 2 terkontrol (GDS {gds} mg/dL).")
            plans.append("Lanjut metformin 3x500 mg. Diet 3J dan olahraga teratur.")
            rx.append(METFORMIN)
    plans.append("Kontrol 1 bulan (Prolanis).")
    return " ".join(assessments), " ".join(plans), rx[:3]


def _plan(rng: random.Random, count: int, today: dt.date) -> list[Person]:
    used_niks: set[str] = set()
    used_names: set[str] = set()
    people = [_person(rng, today, used_niks, used_names) for _ in range(count - 1 if count >= 2 else count)]
    if count >= 2:
        people.append(_newborn(rng, today, people, used_niks))
    for person in people:
        visits = 1 if person.fields["mother_nik"][0] else _weighted(rng, ((1, 25), (2, 35), (3, 25), (4, 15)))
        for index in range(visits):
            author = "dokter" if rng.random() < 0.7 else "perawat"
            person.visits.append((author, _visit(rng, person, index)))
    return people


# ---------------------------------------------------------------------------------------------------------
# Storing, through the services the forms use.


def _require_stored(outcome: Outcome, what: str) -> None:
    if outcome.kind == Kind.STORED:
        return
    details = [f"{name}: {message}" for name, message in outcome.errors.items()]
    details += [f"{name}: {message}" for name, messages in outcome.warnings.items() for message in messages]
    if outcome.duplicates:
        details.append(f"{len(outcome.duplicates)} possible duplicate(s)")
    raise RuntimeError(f"Demo data: {what} came back {outcome.kind!r}, not stored: " + "; ".join(details))


async def _staff(db: Database, password: str) -> tuple[dict[str, CurrentUser], list[str], list[str]]:
    users: dict[str, CurrentUser] = {}
    created: list[str] = []
    existing: list[str] = []
    for username, role, full_name in STAFF:
        row = await accounts.get_user_by_username(db, username)
        if row is None:
            try:
                await accounts.create_user(db, username=username, full_name=full_name, role=role,
                                           password=password, must_change_password=False)
                created.append(username)
            except accounts.UsernameTaken:  # made meanwhile by someone else
                existing.append(username)
            row = await accounts.get_user_by_username(db, username)
        else:
            existing.append(username)
        if row["role"] != role:
            raise RuntimeError(f"Demo data: the existing user {username!r} has the role {row['role']!r}, "
                               f"but the demo needs {role!r}.")
        users[username] = CurrentUser(
            id=str(row["id"]), username=row["username"], full_name=row["full_name"], role=row["role"],
            must_change_password=bool(row["must_change_password"]),
        )
    return users, created, existing


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


async def add_demo_data(db: Database, patients: int = 40, seed: int | None = None) -> str:
    """Register `patients` demo patients (one a newborn known by the mother's NIK) with 1-4 visits each,
    by demo staff created when absent, and return a one-line summary for the command line."""
    if patients < 0:
        raise ValueError("patients must be 0 or more")
    rng = random.Random(seed)
    today = dt.date.today()
    password = one_time_password()
    users, created, existing = await _staff(db, password)
    people = _plan(rng, patients, today)

    added_patients = added_visits = 0
    for person in people:
        # One transaction per patient: a patient is stored with all their visits or not at all, and on
        # SQLite one commit (one fsync) per patient instead of one per statement keeps this fast.
        async with db.transaction():
            outcome = await patient_service.register(db, users["pendaftaran"], Fields(person.fields), ADDRESS,
                                                     accept_warnings=True, possible_duplicates=False)
            _require_stored(outcome, f"patient {person.name!r}")
            created_here = int(outcome.created)
            patient_id = str(outcome.record["id"])
            visits_here = 0
            for author, visit_fields in person.visits:
                outcome = await visit_service.record(db, users[author], patient_id, Fields(visit_fields),
                                                     ADDRESS)
                _require_stored(outcome, f"a visit of {person.name!r}")
                visits_here += outcome.created
        added_patients += created_here
        added_visits += visits_here

    summary = f"Added {_plural(added_patients, 'patient')} and {_plural(added_visits, 'visit')}"
    if created:
        summary += f", and demo users {'/'.join(created)} (password: {password})"
    if existing:
        summary += (f"{';' if created else ','} demo users {'/'.join(existing)} already existed "
                    "(passwords unchanged)")
    return summary + "."
