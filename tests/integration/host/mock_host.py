#!/usr/bin/python3
"""Stand-ins for systemd1 and hostname1 on a private system bus.

Speaks the real interfaces bosun uses (reference/host.md §0):
org.freedesktop.systemd1.Manager.{Start,Stop,Restart}Unit(s name, s mode)
and GetUnit(s name) -> o, the Unit's ActiveState and PartOf properties,
org.freedesktop.hostname1.SetStaticHostname(s, b). Every call is appended
to the log file (argv[1]) as one line: "<Method> <arg> <arg>...".
Units are given as name=ActiveState[:partof1,partof2] in argv[2:]; a unit
not listed is not loaded (GetUnit fails with NoSuchUnit).
"""
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

LOG = sys.argv[1]
SYSTEMD = 'org.freedesktop.systemd1'
MANAGER = SYSTEMD + '.Manager'
UNIT = SYSTEMD + '.Unit'
PROPS = 'org.freedesktop.DBus.Properties'


def log(*words):
    with open(LOG, 'a') as f:
        f.write(' '.join(str(w) for w in words) + '\n')


def unit_path(name):
    return '/org/freedesktop/systemd1/unit/' + ''.join(
        c if c.isalnum() else '_%02x' % ord(c) for c in name)


class Unit(dbus.service.Object):
    def __init__(self, bus, name, state, part_of):
        super().__init__(bus, unit_path(name))
        self.props = {'Id': name, 'ActiveState': state,
                      'PartOf': dbus.Array(part_of, signature='s')}

    @dbus.service.method(PROPS, in_signature='ss', out_signature='v')
    def Get(self, iface, prop):
        if iface != UNIT or prop not in self.props:
            raise dbus.exceptions.DBusException(
                'Unknown property', name='org.freedesktop.DBus.Error.UnknownProperty')
        return self.props[prop]

    @dbus.service.method(PROPS, in_signature='s', out_signature='a{sv}')
    def GetAll(self, iface):
        return self.props


class Manager(dbus.service.Object):
    def __init__(self, bus, units):
        super().__init__(bus, '/org/freedesktop/systemd1')
        self.units = units
        self.jobs = 0

    def job(self, method, name, mode):
        log(method, name, mode)
        if name not in self.units:
            raise dbus.exceptions.DBusException(
                'Unit %s not found.' % name,
                name='org.freedesktop.systemd1.NoSuchUnit')
        self.jobs += 1
        return dbus.ObjectPath('/org/freedesktop/systemd1/job/%d' % self.jobs)

    @dbus.service.method(MANAGER, in_signature='ss', out_signature='o')
    def StartUnit(self, name, mode):
        return self.job('StartUnit', name, mode)

    @dbus.service.method(MANAGER, in_signature='ss', out_signature='o')
    def StopUnit(self, name, mode):
        return self.job('StopUnit', name, mode)

    @dbus.service.method(MANAGER, in_signature='ss', out_signature='o')
    def RestartUnit(self, name, mode):
        return self.job('RestartUnit', name, mode)

    @dbus.service.method(MANAGER, in_signature='s', out_signature='o')
    def GetUnit(self, name):
        log('GetUnit', name)
        if name not in self.units:
            raise dbus.exceptions.DBusException(
                'Unit %s not loaded.' % name,
                name='org.freedesktop.systemd1.NoSuchUnit')
        return dbus.ObjectPath(unit_path(name))


class Hostname(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, '/org/freedesktop/hostname1')

    @dbus.service.method('org.freedesktop.hostname1', in_signature='sb')
    def SetStaticHostname(self, name, interactive):
        log('SetStaticHostname', name, bool(interactive))


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    units = {}
    for spec in sys.argv[2:]:
        name, _, rest = spec.partition('=')
        state, _, part_of = rest.partition(':')
        units[name] = Unit(bus, name, state,
                           [p for p in part_of.split(',') if p])
    Manager(bus, units)
    Hostname(bus)
    names = [dbus.service.BusName(n, bus) for n in
             (SYSTEMD, 'org.freedesktop.hostname1')]
    log('ready')
    GLib.MainLoop().run()
    del names


if __name__ == '__main__':
    main()
