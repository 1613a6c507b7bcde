"""Building pushed-list files for tests: CSV and XLSX from rows, in Chinese or English headers."""

import csv
import io

import openpyxl

ZH = ["证件号码", "姓名", "手机号码", "来源地", "到达时间", "地址", "区划代码", "交通方式", "班次车牌"]
EN = [
    "id_number",
    "name",
    "phone",
    "origin",
    "arrival_at",
    "address",
    "division_code",
    "transport",
    "transport_number",
]


def xlsx(rows: list[list], headers=ZH) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], headers=ZH, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode(encoding)


def read_xlsx(data: bytes) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
